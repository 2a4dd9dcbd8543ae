import { mkdtempSync, realpathSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { silentLogger } from '@ork/logger'
import { type SimulatedSite, type SimulatedSiteOptions, startSimulatedSite } from '@ork/rack-simulator'
import { RpcNode } from '@ork/rpc-transport'
import { createLoopbackTestnet, type LoopbackTestnet } from '@ork/rpc-transport/testing'
import { afterAll, beforeAll } from 'vitest'
import { createServiceRoot } from './harness.ts'
import { killWorkers } from './worker-process.ts'

const HOUR_MS = 3_600_000
const DAY_MS = 86_400_000

/**
 * The fixed offset (whole hours, ms) of a zone where it is about `hour` o'clock at `now`. Tests
 * whose worker runs on the real clock keep their history days away from a day change that way.
 */
export function offsetWhereItIs(hour: number, now = Date.now()): number {
  return Math.round((hour * HOUR_MS - (now % DAY_MS)) / HOUR_MS) * HOUR_MS
}

/**
 * What the tests that run the worker as a process, and stop or kill and restart it, share: a
 * loopback testnet, simulated racks, service roots and RPC clients. close() kills the workers
 * still running and removes all of it.
 */
export class ProcessTestSite {
  readonly #roots: string[] = []
  readonly #clients: RpcNode[] = []

  private constructor(
    readonly testnet: LoopbackTestnet,
    readonly scratch: string,
    readonly site: SimulatedSite,
  ) {}

  static async start(options: Pick<SimulatedSiteOptions, 'racks' | 'seed'> & { name: string }) {
    const testnet = await createLoopbackTestnet()
    const scratch = mkdtempSync(join(tmpdir(), `${options.name}-`))
    const site = await startSimulatedSite({
      dhtOpts: testnet.dhtOpts,
      racks: options.racks,
      seed: options.seed,
      rootDir: join(scratch, 'racks'),
    })
    return new ProcessTestSite(testnet, scratch, site)
  }

  /**
   * A service root on the testnet, by its real path (the worker names its store by it), without
   * the automation job: it would add writes of its own.
   */
  serviceRoot(): string {
    const root = realpathSync(createServiceRoot({ dhtOpts: this.testnet.dhtOpts }))
    this.#roots.push(root)
    rmSync(join(root, 'config/cross.aggr.action.json'))
    return root
  }

  /** A fresh client: a stopped or killed worker takes the pooled connections of the last one with it. */
  async newClient(): Promise<RpcNode> {
    const node = new RpcNode({
      storeDir: join(this.scratch, `client-${this.#clients.length}`),
      dhtOpts: this.testnet.dhtOpts,
      logger: silentLogger,
    })
    this.#clients.push(node)
    await node.ready()
    return node
  }

  async close(): Promise<void> {
    killWorkers()
    for (const node of this.#clients) await node.close().catch(() => {})
    await this.site.close()
    await this.testnet.destroy()
    for (const root of this.#roots) rmSync(root, { recursive: true, force: true })
    rmSync(this.scratch, { recursive: true, force: true })
  }
}

/**
 * A {@link ProcessTestSite} started before the file's tests and closed after them, for test
 * files that run the worker as a process.
 */
export function useProcessTestSite(options: Parameters<typeof ProcessTestSite.start>[0]) {
  let started: ProcessTestSite | undefined
  beforeAll(async () => {
    started = await ProcessTestSite.start(options)
  })
  afterAll(() => started?.close())
  const current = (): ProcessTestSite => {
    if (!started) throw new Error('the process test site starts in beforeAll')
    return started
  }
  return {
    get site(): SimulatedSite {
      return current().site
    },
    serviceRoot: () => current().serviceRoot(),
    newClient: () => current().newClient(),
  }
}
