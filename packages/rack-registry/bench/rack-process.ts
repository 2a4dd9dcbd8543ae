/**
 * The fan-out benchmark's racks, in a child process (scripts/bench-child-process.ts says why).
 * Each rack is a bare @hyperswarm/rpc server, as the reference racks are, answering
 * `listThings` with bytes encoded once.
 */
import RPC from '@hyperswarm/rpc'
import HyperDHT from 'hyperdht'
import { forkBenchChild, isBenchChild, serveBenchChild } from '../../../scripts/bench-child-process.ts'
import { rackThings } from './things.ts'

const CHILD_FLAG = 'ORK_BENCH_RACK_PROCESS'

export interface RackProcessOptions {
  bootstrap: { host: string; port: number }[]
  racks: number
  thingsPerRack: number
}

/** One entry per rack, in rack order. */
export type StartedRacks = { id: string; rpcPublicKey: string; replyBytes: number }[]

export function startRackProcess(options: RackProcessOptions) {
  return forkBenchChild<StartedRacks>(import.meta.url, CHILD_FLAG, options)
}

async function startRacks(options: RackProcessOptions) {
  const closers: (() => Promise<void>)[] = []
  const racks: StartedRacks = []
  for (let index = 0; index < options.racks; index++) {
    const id = `miner-am-s19xp-rack-${String(index).padStart(2, '0')}`
    const reply = Buffer.from(JSON.stringify(rackThings(id, options.thingsPerRack)))
    const dht = new HyperDHT({ bootstrap: options.bootstrap, host: '127.0.0.1', firewalled: false })
    const rpc = new RPC({ dht })
    const server = rpc.createServer()
    server.respond('listThings', () => reply)
    await server.listen()
    closers.push(async () => {
      await server.close()
      await rpc.destroy()
      await dht.destroy()
    })
    racks.push({ id, rpcPublicKey: server.publicKey.toString('hex'), replyBytes: reply.length })
  }
  return {
    reply: racks,
    close: async () => {
      for (const close of closers) await close()
    },
  }
}

if (isBenchChild(CHILD_FLAG)) await serveBenchChild(startRacks)
