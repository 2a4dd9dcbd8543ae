/**
 * What the worker's benchmarks share: the ork itself (production config from the service
 * root, silent), the API-node side (a pooled client that has registered every simulated
 * rack), the tailLog keys of the shipped config, and a site-metrics site.
 */
import { join } from 'node:path'
import { silentLogger } from '@ork/logger'
import type { RackRegistration } from '@ork/rack-simulator'
import { RpcNode } from '@ork/rpc-transport'
import { loadWorkerConfig, type WorkerConfig } from '../../src/config/load-config.ts'
import { type OrkHandle, startOrk } from '../../src/ork.ts'
import { type SiteProcess, startSiteProcess } from './site-process.ts'

const DAY = 86_400_000

/** An ork on the testnet with the service root's production config; `now` fixes the history job's clock. */
export async function startBenchOrk(options: {
  cluster: string
  root: string
  testnet: { dhtOpts: unknown }
  now?: number
}): Promise<{ ork: OrkHandle; config: WorkerConfig }> {
  const config = loadWorkerConfig(options.root, 'production')
  const now = options.now
  const ork = await startOrk({
    cluster: options.cluster,
    env: 'production',
    root: options.root,
    config,
    dhtOpts: options.testnet.dhtOpts as Record<string, unknown>,
    logger: silentLogger,
    ...(now === undefined ? {} : { now: () => now }),
  })
  return { ork, config }
}

/**
 * A site-metrics site in a child process: `minerRacks` racks of `minersPerRack` miners, one rack
 * of 2 containers and one of 2 powermeters, each with two days of 5-minute history up to `now`.
 */
export function startMetricsSite(options: {
  testnet: { dhtOpts: unknown }
  scratch: string
  minerRacks: number
  minersPerRack: number
  seed: number
  now: number
}): Promise<SiteProcess> {
  return startSiteProcess({
    dhtOpts: options.testnet.dhtOpts as Record<string, unknown>,
    racks: [
      { type: 'container-bd-d40', count: 2, historyMs: 2 * DAY },
      {
        type: 'miner-am-s19xp',
        count: options.minersPerRack,
        racks: options.minerRacks,
        historyMs: 2 * DAY,
      },
      { type: 'powermeter-abb', count: 2, historyMs: 2 * DAY },
    ],
    seed: options.seed,
    rootDir: join(options.scratch, 'racks'),
    now: options.now,
  })
}

export interface BenchClient {
  client: RpcNode
  /** Calls a method of the ork. */
  call(method: string, data: unknown): Promise<unknown>
}

export async function connectBenchClient(options: {
  scratch: string
  testnet: { dhtOpts: unknown }
  ork: { rpcPublicKey: string }
  site: { registrations: RackRegistration[] }
  timeoutMs: number
}): Promise<BenchClient> {
  const client = new RpcNode({
    storeDir: join(options.scratch, 'client'),
    dhtOpts: options.testnet.dhtOpts as Record<string, unknown>,
    logger: silentLogger,
  })
  await client.ready()
  const call = (method: string, data: unknown) =>
    client.request(options.ork.rpcPublicKey, method, data, { timeout: options.timeoutMs })
  for (const registration of options.site.registrations) await call('registerRack', registration)
  return { client, call }
}

/** The tailLog fields of the config's aggr.data.json key for `type`. */
export function tailLogKey(config: WorkerConfig, type: string) {
  const entry = config.aggrData?.aggrTailLogKeys?.find((candidate) => candidate.type === type)
  if (!entry) throw new Error(`no aggr.data.json key for ${type}`)
  return { key: entry.key, type: entry.type, tag: entry.tag, fields: entry.fields, aggrFields: entry.aggrFields }
}
