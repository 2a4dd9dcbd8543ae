/**
 * Runs a benchmark's simulated racks in a child process. On a real site the racks are other
 * machines: sharing the ork's thread, 50 racks sending their replies at once fill the
 * receiving UDP socket before the same thread can drain it, the kernel drops datagrams and
 * every round waits about a second for retransmission — a cost of the test set-up, not of
 * the ork. In their own process the racks answer the way remote ones do (the second core
 * of the machine plays the rest of the site).
 */
import { type ChildProcess, fork } from 'node:child_process'
import { once } from 'node:events'
import { fileURLToPath } from 'node:url'
import type { RackRegistration, SimulatedSiteOptions } from '@ork/rack-simulator'

const CHILD_FLAG = 'ORK_BENCH_SITE_PROCESS'

/** Site options that cross a process boundary: a fixed clock, no logger or node factory. */
export type SiteProcessOptions = Omit<SimulatedSiteOptions, 'now' | 'logger' | 'createNode'> & { now?: number }

export interface SiteProcess {
  /** `registerRack` payloads, one per rack. */
  registrations: RackRegistration[]
  close(): Promise<void>
}

type ChildReply = { registrations: RackRegistration[] } | { error: string }

export async function startSiteProcess(options: SiteProcessOptions): Promise<SiteProcess> {
  const child = fork(fileURLToPath(import.meta.url), [], {
    // The parent runs under tsx; its loader flags let the child load TypeScript too.
    execArgv: process.execArgv,
    env: { ...process.env, [CHILD_FLAG]: '1' },
    stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
  })
  child.send(options)
  const [reply] = (await once(child, 'message')) as [ChildReply]
  if ('error' in reply) throw new Error(`simulated site failed to start: ${reply.error}`)
  return { registrations: reply.registrations, close: () => stopChild(child) }
}

async function stopChild(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null) return
  const exited = once(child, 'exit')
  child.send('close')
  await exited
}

async function runChild(): Promise<void> {
  const { startSimulatedSite } = await import('@ork/rack-simulator')
  // The parent gone (finished or crashed): the racks go with it.
  process.once('disconnect', () => process.exit(0))
  const [options] = (await once(process, 'message')) as [SiteProcessOptions]
  try {
    const site = await startSimulatedSite(options)
    process.on('message', async (message) => {
      if (message !== 'close') return
      await site.close()
      process.exit(0)
    })
    process.send?.({ registrations: site.registrations })
  } catch (error) {
    process.send?.({ error: error instanceof Error ? error.message : String(error) })
    process.exit(1)
  }
}

if (process.env[CHILD_FLAG] === '1') await runChild()
