/**
 * listThings as the reference computes it, rebuilt from the spec for the benchmark: its
 * transport is bare @hyperswarm/rpc with the net facility's JSON framing (libraries.md
 * 4.4-4.5: `JSON.parse` of the whole body, `[HRPC_ERR]=` check, `Buffer.from(JSON.stringify())`,
 * one pooled client with poolLinger 300 s); its method asks every rack 25 at a time, concatenates
 * the replies in rack order and sorts with the reference's comparator (ork-behaviour.md 3.2,
 * 4.4, 4.4.1), which tokenises both values on every comparison and calls `localeCompare`.
 * Not the reference's code: a yardstick measured on the same machine, racks and client,
 * since the reference figure was measured some other way.
 */
import HyperswarmRPC from '@hyperswarm/rpc'
import { compareThings } from '@ork/rack-simulator'
import HyperDHT from 'hyperdht'

const CONCURRENCY = 25
const TIMEOUT_MS = 10_000

/**
 * `things.sort((a, b) => sortThings(a, b, sort))`, as the reference's listThings sorts; the
 * simulated racks' comparator is that same function, written as the spec gives it.
 */
export function referenceSort<T>(things: T[], sort: Record<string, number>): T[] {
  return things.sort((a, b) => compareThings(a, b, sort))
}

export interface ReferencePipeline {
  rpcPublicKey: Buffer
  close(): Promise<void>
}

const HRPC_ERR = '[HRPC_ERR]='

/** The net facility's client decode (jRequest): whole-body JSON.parse, then the error marker. */
function decodeReply(reply: Buffer | null): unknown {
  const value: unknown = JSON.parse(String(reply))
  if (typeof value === 'string' && value.slice(0, 15).includes(HRPC_ERR)) throw new Error(value)
  return value
}

/** Serves `listThings` the reference's way over the racks with these RPC public keys (hex). */
export async function startReferencePipeline(options: {
  dhtOpts: HyperDHT.Options
  rackKeys: string[]
}): Promise<ReferencePipeline> {
  const dht = new HyperDHT(options.dhtOpts)
  const rpc = new HyperswarmRPC({ dht, poolLinger: 300_000 })
  const rackKeys = options.rackKeys.map((key) => Buffer.from(key, 'hex'))

  const listThings = async (request: { sort?: Record<string, number> }) => {
    const replies: unknown[] = new Array(rackKeys.length)
    let next = 0
    const worker = async () => {
      while (next < rackKeys.length) {
        const index = next++
        try {
          const body = Buffer.from(JSON.stringify(request))
          replies[index] = decodeReply(
            await rpc.request(rackKeys[index] as Buffer, 'listThings', body, { timeout: TIMEOUT_MS }),
          )
        } catch {
          replies[index] = []
        }
      }
    }
    await Promise.all(Array.from({ length: CONCURRENCY }, worker))
    const things = replies.flat()
    return request.sort ? referenceSort(things, request.sort) : things
  }

  const server = rpc.createServer()
  // The net facility's handleReply: parse, call, encode; errors travel as the marker string.
  server.respond('listThings', async (body) => {
    let reply: unknown
    try {
      reply = await listThings(JSON.parse(String(body)))
    } catch (error) {
      reply = `${HRPC_ERR}${(error as Error).message}`
    }
    return Buffer.from(JSON.stringify(reply))
  })
  await server.listen()
  return {
    rpcPublicKey: server.publicKey,
    async close() {
      await server.close()
      await rpc.destroy()
      await dht.destroy()
    },
  }
}
