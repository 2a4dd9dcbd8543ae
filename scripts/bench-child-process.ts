/**
 * Runs part of a benchmark (the simulated racks) in a child process. On a site the racks are
 * other machines: sharing the ork's thread, their reply bursts fill its UDP socket before the
 * thread drains it, the kernel drops datagrams and streams wait for retransmission — a cost of
 * the set-up, not of the code measured. The child runs the same module, marked by `flag` in its
 * environment; it exits when asked to close or when the parent goes away.
 */
import { type ChildProcess, fork } from 'node:child_process'
import { once } from 'node:events'

export interface BenchChild<Reply> {
  /** What the child's `start` resolved with. */
  reply: Reply
  close(): Promise<void>
}

type ChildMessage<Reply> = { reply: Reply } | { error: string }

/** Forks `moduleUrl` (an `import.meta.url`) with `flag` set, sends it `options`, waits for its reply. */
export async function forkBenchChild<Reply>(
  moduleUrl: string,
  flag: string,
  options: unknown,
): Promise<BenchChild<Reply>> {
  const child = fork(new URL(moduleUrl), [], {
    // The parent runs under tsx; its loader flags let the child load TypeScript too.
    execArgv: process.execArgv,
    env: { ...process.env, [flag]: '1' },
    stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
  })
  child.send(options as object)
  const [message] = (await once(child, 'message')) as [ChildMessage<Reply>]
  if ('error' in message) throw new Error(`benchmark child failed to start: ${message.error}`)
  return { reply: message.reply, close: () => stopChild(child) }
}

async function stopChild(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null) return
  const exited = once(child, 'exit')
  child.send('close')
  await exited
}

/** True in the child that {@link forkBenchChild} started with `flag`. */
export const isBenchChild = (flag: string): boolean => process.env[flag] === '1'

/**
 * The child's side: receives the options, runs `start`, sends back its reply, and closes what
 * it started when the parent asks (or exits with the parent).
 */
export async function serveBenchChild<Options, Reply>(
  start: (options: Options) => Promise<{ reply: Reply; close(): Promise<void> }>,
): Promise<void> {
  process.once('disconnect', () => process.exit(0))
  const [options] = (await once(process, 'message')) as [Options]
  try {
    const started = await start(options)
    process.on('message', async (message) => {
      if (message !== 'close') return
      await started.close()
      process.exit(0)
    })
    process.send?.({ reply: started.reply })
  } catch (error) {
    process.send?.({ error: error instanceof Error ? error.message : String(error) })
    process.exit(1)
  }
}
