import { join } from 'node:path'
import type { Logger } from '@ork/logger'
import { baseTypeOf } from './device-catalog.ts'
import type { ExecutedCall } from './rack-model.ts'
import { type RackNodeOptions, type RackRegistration, type RackServerNode, SimulatedRack } from './simulated-rack.ts'
import type { RackFaults } from './wire.ts'

/** One group of identical racks of a site. */
export interface SiteRackSpec {
  /** Rack type, e.g. `miner-am-s19xp`. */
  type: string
  /** Devices per rack. */
  count: number
  /** How many racks of this type (default 1). */
  racks?: number
  faults?: RackFaults
  allow?: string[]
  historyMs?: number
  globalConfig?: Record<string, unknown> | null
}

/** Options of {@link startSimulatedSite}. */
export interface SimulatedSiteOptions {
  dhtOpts: unknown
  racks: SiteRackSpec[]
  seed: number | string
  /** Directory holding one store per rack (`<rootDir>/<rackId>/store`). */
  rootDir: string
  /** Fixed time (ms) or clock for every rack (default `Date.now`). */
  now?: number | (() => number)
  logger?: Logger
  createNode?: (options: RackNodeOptions) => RackServerNode
}

/** A running simulated site. */
export interface SimulatedSite {
  racks: SimulatedRack[]
  /** `registerRack` payloads, one per rack, in `racks` order. */
  registrations: RackRegistration[]
  /** Every write executed on any rack, in rack order. */
  executedCalls(): ExecutedCall[]
  close(): Promise<void>
}

/**
 * Starts the racks of a site: containers first (their names become the
 * `info.container` of miners and sensors), then the other racks, numbered per
 * type (`miner-am-s19xp-rack-1`, `-rack-2`...). On failure, closes what it started.
 */
export async function startSimulatedSite(options: SimulatedSiteOptions): Promise<SimulatedSite> {
  const clock = typeof options.now === 'number' ? () => options.now as number : options.now
  const numbers = new Map<string, number>()
  const ordered = [...options.racks].sort(
    (left, right) => Number(baseTypeOf(right.type) === 'container') - Number(baseTypeOf(left.type) === 'container'),
  )
  const racks: SimulatedRack[] = []
  const containers: string[] = []
  try {
    for (const spec of ordered) {
      for (let copy = 0; copy < (spec.racks ?? 1); copy++) {
        const rackNumber = (numbers.get(spec.type) ?? 0) + 1
        numbers.set(spec.type, rackNumber)
        const rackId = `${spec.type}-rack-${rackNumber}`
        const family = baseTypeOf(spec.type)
        const rack = new SimulatedRack({
          type: spec.type,
          count: spec.count,
          seed: options.seed,
          rackNumber,
          rackId,
          storeDir: join(options.rootDir, rackId, 'store'),
          dhtOpts: options.dhtOpts,
          ...(clock ? { now: clock } : {}),
          ...(spec.faults ? { faults: spec.faults } : {}),
          ...(spec.allow ? { allow: spec.allow } : {}),
          ...(spec.historyMs ? { historyMs: spec.historyMs } : {}),
          ...(spec.globalConfig !== undefined ? { globalConfig: spec.globalConfig } : {}),
          ...(containers.length > 0 && (family === 'miner' || family === 'sensor') ? { containers } : {}),
          ...(options.logger ? { logger: options.logger } : {}),
          ...(options.createNode ? { createNode: options.createNode } : {}),
        })
        racks.push(rack)
        if (family === 'container') containers.push(...rack.model.containerNames())
      }
    }
    await Promise.all(racks.map((rack) => rack.ready()))
  } catch (error) {
    await Promise.allSettled(racks.map((rack) => rack.close()))
    throw error
  }
  return {
    racks,
    registrations: racks.map((rack) => rack.registration()),
    executedCalls: () => racks.flatMap((rack) => rack.executedCalls),
    close: async () => {
      await Promise.allSettled(racks.map((rack) => rack.close()))
    },
  }
}
