/**
 * Runs a benchmark's simulated racks in a child process (scripts/bench-child-process.ts says
 * why): in their own process the racks answer the way remote ones do, the second core of the
 * machine playing the rest of the site.
 */
import type { RackRegistration, SimulatedSiteOptions } from '@ork/rack-simulator'
import { forkBenchChild, isBenchChild, serveBenchChild } from '../../../../scripts/bench-child-process.ts'

const CHILD_FLAG = 'ORK_BENCH_SITE_PROCESS'

/** Site options that cross a process boundary: a fixed clock, no logger or node factory. */
export type SiteProcessOptions = Omit<SimulatedSiteOptions, 'now' | 'logger' | 'createNode'> & { now?: number }

export interface SiteProcess {
  /** `registerRack` payloads, one per rack. */
  registrations: RackRegistration[]
  close(): Promise<void>
}

export async function startSiteProcess(options: SiteProcessOptions): Promise<SiteProcess> {
  const child = await forkBenchChild<RackRegistration[]>(import.meta.url, CHILD_FLAG, options)
  return { registrations: child.reply, close: child.close }
}

if (isBenchChild(CHILD_FLAG)) {
  const { startSimulatedSite } = await import('@ork/rack-simulator')
  await serveBenchChild(async (options: SiteProcessOptions) => {
    const site = await startSimulatedSite(options)
    return { reply: site.registrations, close: () => site.close() }
  })
}
