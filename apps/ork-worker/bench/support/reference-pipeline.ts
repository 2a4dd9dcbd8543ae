/**
 * listThings and tailLog as the reference computes them, rebuilt from the spec for the
 * benchmarks, so that "half of the reference" can be checked on the machine that runs them
 * (the issues' reference figures were measured somewhere else).
 *
 * What is the reference's: the net facility's client framing (libraries.md 4.5: the whole
 * reply as one string through `JSON.parse`, then the `[HRPC_ERR]=` check), every rack asked
 * 25 at a time with failures swallowed (ork-behaviour.md 3.2, 3.3), listThings' concat and
 * comparator (4.4, 4.4.1: both values tokenised on every comparison, `localeCompare`), and
 * tailLog's steps A-G (4.7: every op of the spec applied to every record with `applyStats`,
 * `tallyStats`, sort by `ts`, mingo projection). What is not: the transport is the ork's own
 * RpcNode (same sockets and UDP buffers), and `applyStats` is @ork/stats's port, which
 * compiles each op's path once where the reference walks it on every call; both make this
 * yardstick faster than the reference, never slower. tailLog covers what the benchmarks
 * send: grouping by `ts`, no `aggrTimes`, no cross-thing step.
 */
import { silentLogger } from '@ork/logger'
import type { RackRecord } from '@ork/rack-registry'
import { compareThings } from '@ork/rack-simulator'
import { RpcNode, type RpcNodeOptions } from '@ork/rpc-transport'
import { applyStats, type OpSpec, type StatsPack, tallyStats } from '@ork/stats'
import { Query } from 'mingo'

const CONCURRENCY = 25
const TIMEOUT_MS = 10_000
const HRPC_ERR = '[HRPC_ERR]='

type Request = Record<string, unknown>
type AggrStats = Record<string, { ops: Record<string, OpSpec> }>

/**
 * `things.sort((a, b) => sortThings(a, b, sort))`, as the reference's listThings sorts; the
 * simulated racks' comparator is that same function, written as the spec gives it.
 */
export function referenceSort<T>(things: T[], sort: Record<string, number>): T[] {
  return things.sort((a, b) => compareThings(a, b, sort))
}

/** tailLog steps C-E and G on the concatenated rack records (ork-behaviour.md 4.7). */
export function referenceAggregate(items: unknown[], ops: Record<string, OpSpec>, aggrFields: Request): unknown[] {
  const groups = new Map<string, Request[]>()
  for (const item of items as Request[]) {
    const key = String(item.ts)
    const group = groups.get(key)
    if (group) group.push(item)
    else groups.set(key, [item])
  }
  const rows: StatsPack[] = []
  for (const group of groups.values()) {
    const state = { ops }
    const row: StatsPack = { ts: group[0]?.ts as number, aggrTsRange: '', aggrCount: group.length }
    const intervals = new Set<unknown>()
    for (const item of group) {
      applyStats(state, row, item as StatsPack)
      if (Object.keys(item).length > 1) intervals.add(item.ts)
    }
    tallyStats(state, row)
    row.aggrIntervals = intervals.size
    rows.push(row)
  }
  rows.sort((a, b) => (a.ts as number) - (b.ts as number))
  // mingo itself, as the reference (@ork/stats's projectRows copies plain inclusions without it).
  return new Query({}).find(rows, aggrFields).all()
}

export interface ReferencePipeline {
  rpcPublicKey: Buffer
  close(): Promise<void>
}

/**
 * What udx-native asks the kernel for on each socket when nobody sets a size, as on the
 * reference's sockets (the kernel reports twice that back).
 */
export const UDX_DEFAULT_RECEIVE_BUFFER_BYTES = 1024 * 1024

/**
 * Serves `listThings` and `tailLog` the reference's way over `racks` (in the ork's rack order).
 * Its sockets get the ork's UDP receive buffer unless `udpReceiveBufferBytes` says otherwise.
 */
export async function startReferencePipeline(options: {
  storeDir: string
  dhtOpts: RpcNodeOptions['dhtOpts']
  racks: RackRecord[]
  aggrStats?: AggrStats
  udpReceiveBufferBytes?: number
}): Promise<ReferencePipeline> {
  const node = new RpcNode({
    storeDir: options.storeDir,
    dhtOpts: options.dhtOpts,
    logger: silentLogger,
    udpReceiveBufferBytes: options.udpReceiveBufferBytes,
  })
  await node.ready()

  // jRequest: the whole reply through JSON.parse, then the error marker.
  const ask = async (rack: RackRecord, method: string, request: Request) => {
    const body = Buffer.from(JSON.stringify(request))
    const value: unknown = JSON.parse(
      String(await node.requestRaw(rack.info.rpcPublicKey, method, body, { timeout: TIMEOUT_MS })),
    )
    if (typeof value === 'string' && value.slice(0, 15).includes(HRPC_ERR)) throw new Error(value)
    return value
  }
  // Every rack 25 at a time, a failing rack contributing nothing, replies concatenated in rack order.
  const fanOut = async (racks: RackRecord[], method: string, request: Request) => {
    const replies: unknown[] = new Array(racks.length)
    let next = 0
    const worker = async () => {
      while (next < racks.length) {
        const index = next++
        replies[index] = await ask(racks[index] as RackRecord, method, request).catch(() => [])
      }
    }
    await Promise.all(Array.from({ length: CONCURRENCY }, worker))
    return replies.flat()
  }

  node.respond(
    'listThings',
    async (data) => {
      const request = data as Request
      const things = await fanOut(options.racks, 'listThings', request)
      return request.sort ? referenceSort(things, request.sort as Record<string, number>) : things
    },
    { op: 'r' },
  )

  node.respond(
    'tailLog',
    async (data) => {
      const request = data as Request
      const type = request.type as string
      const ops = options.aggrStats?.[type.split('-')[0] as string]?.ops
      if (!ops) throw new Error('ERR_TYPE_AGGR_INVALID')
      if (request.aggrTimes) throw new Error('aggrTimes is not rebuilt here')
      // Step A, on the request itself as the reference does it.
      const aggrFields = (request.aggrFields ?? {}) as Request
      const fields = (request.fields ?? {}) as Request
      for (const field of Object.keys(aggrFields)) {
        const src = ops[field]?.src
        if (typeof src === 'string') fields[src] = aggrFields[field]
      }
      if (Object.keys(fields).length > 0 && !fields.ts) fields.ts = 1
      if (Object.keys(aggrFields).length > 0) {
        for (const key of ['ts', 'aggrTsRange', 'aggrCount', 'aggrIntervals']) aggrFields[key] ||= 1
      }
      request.fields = fields
      // Step B: the TYPE selection (the type itself or a `type-` subtype).
      const racks = options.racks.filter((rack) => rack.type === type || rack.type.startsWith(`${type}-`))
      const items = await fanOut(racks, 'tailLog', request)
      return referenceAggregate(items, ops, aggrFields)
    },
    { op: 'r' },
  )

  await node.listen()
  return { rpcPublicKey: node.rpcPublicKey, close: () => node.close() }
}
