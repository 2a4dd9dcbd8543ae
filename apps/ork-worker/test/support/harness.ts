import { cpSync, mkdirSync, mkdtempSync, readdirSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { silentLogger } from '@ork/logger'
import { type SimulatedSite, type SiteRackSpec, startSimulatedSite } from '@ork/rack-simulator'
import { RpcNode } from '@ork/rpc-transport'
import { createLoopbackTestnet, type LoopbackTestnet } from '@ork/rpc-transport/testing'
import { type OrkHandle, type StartOrkOptions, startOrk } from '../../src/ork.ts'

export const repositoryConfigDir = join(import.meta.dirname, '..', '..', '..', '..', 'config')

/** A small site: two miner racks, a container rack, a powermeter rack. */
export const SMALL_SITE: SiteRackSpec[] = [
  { type: 'container-bd-d40', count: 2 },
  { type: 'miner-am-s19xp', count: 20, racks: 2 },
  { type: 'powermeter-abb', count: 2 },
]

/**
 * Lays out a service root as `./setup-config.sh` would: every shipped example copied to
 * its real name. The net config admits everyone unless `net` is given.
 */
export function createServiceRoot(net: Record<string, unknown> = {}): string {
  const root = mkdtempSync(join(tmpdir(), 'ork-worker-'))
  cpSync(repositoryConfigDir, join(root, 'config'), { recursive: true })
  const copyExamples = (directory: string) => {
    for (const entry of readdirSync(directory, { withFileTypes: true })) {
      const path = join(directory, entry.name)
      if (entry.isDirectory()) copyExamples(path)
      else if (entry.name.endsWith('.example')) cpSync(path, path.slice(0, -'.example'.length))
    }
  }
  copyExamples(join(root, 'config'))
  writeFileSync(join(root, 'config/facs/net.config.json'), JSON.stringify({ r0: net }))
  return root
}

export interface Harness {
  testnet: LoopbackTestnet
  root: string
  site: SimulatedSite
  ork: OrkHandle
  client: RpcNode
  /** Calls the ork from the test client. */
  call(method: string, data?: unknown, timeout?: number): Promise<unknown>
  /** A second client with its own keys (for firewall and read-only tests). */
  newClient(): Promise<RpcNode>
  restartOrk(overrides?: Partial<StartOrkOptions>): Promise<OrkHandle>
  close(): Promise<void>
}

export interface HarnessOptions {
  racks?: SiteRackSpec[]
  net?: Record<string, unknown>
  /** Register the simulated racks with the ork (default true). */
  register?: boolean
  orkOptions?: Partial<StartOrkOptions>
  now?: number | (() => number)
}

/** A loopback testnet, simulated racks registered with an embedded ork, and a client. */
export async function startHarness(options: HarnessOptions = {}): Promise<Harness> {
  const testnet = await createLoopbackTestnet()
  const root = createServiceRoot(options.net)
  const clients: RpcNode[] = []
  const site = await startSimulatedSite({
    dhtOpts: testnet.dhtOpts,
    racks: options.racks ?? SMALL_SITE,
    seed: 7,
    rootDir: join(root, 'racks'),
    ...(options.now !== undefined ? { now: options.now } : {}),
  })
  const orkOptions = (overrides: Partial<StartOrkOptions> = {}): StartOrkOptions => ({
    cluster: 'test-cluster',
    env: 'production',
    root,
    dhtOpts: testnet.dhtOpts,
    logger: silentLogger,
    drainTimeoutMs: 2_000,
    ...options.orkOptions,
    ...overrides,
  })
  let ork = await startOrk(orkOptions())

  const newClient = async () => {
    const directory = join(root, 'clients', String(clients.length))
    mkdirSync(directory, { recursive: true })
    const node = new RpcNode({ storeDir: directory, dhtOpts: testnet.dhtOpts })
    clients.push(node)
    await node.ready()
    return node
  }
  const client = await newClient()
  const harness: Harness = {
    testnet,
    root,
    site,
    get ork() {
      return ork
    },
    client,
    call: (method, data = {}, timeout = 20_000) => client.request(ork.rpcPublicKey, method, data, { timeout }),
    newClient,
    async restartOrk(overrides) {
      await ork.close()
      ork = await startOrk(orkOptions(overrides))
      return ork
    },
    async close() {
      for (const node of clients) await node.close()
      await ork.close()
      await site.close()
      await testnet.destroy()
      rmSync(root, { recursive: true, force: true })
    },
  }
  if (options.register !== false) {
    for (const registration of site.registrations) await harness.call('registerRack', registration)
  }
  return harness
}
