/**
 * The benchmarks' API-node side: a pooled client of the ork that has registered every
 * simulated rack, and the tailLog keys of the shipped config as the API node sends them.
 */
import { join } from 'node:path'
import { silentLogger } from '@ork/logger'
import type { RackRegistration } from '@ork/rack-simulator'
import { RpcNode } from '@ork/rpc-transport'
import type { WorkerConfig } from '../../src/config/load-config.ts'

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
    dhtOpts: options.testnet.dhtOpts as never,
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
