import { mkdtemp, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { RpcNode, type RpcNodeOptions } from '../src/index.ts'
import type { LoopbackTestnet } from '../src/testing.ts'

/** Tracks nodes and temp dirs so each test file closes everything it opened, in order. */
export class Fixture {
  readonly #nodes: RpcNode[] = []
  readonly #dirs: string[] = []

  constructor(readonly testnet: LoopbackTestnet) {}

  async tempDir(): Promise<string> {
    const dir = await mkdtemp(join(tmpdir(), 'ork-rpc-'))
    this.#dirs.push(dir)
    return dir
  }

  async node(options: Partial<RpcNodeOptions> = {}): Promise<RpcNode> {
    const storeDir = options.store ? undefined : (options.storeDir ?? join(await this.tempDir(), 'store'))
    const node = new RpcNode({ storeDir, dhtOpts: this.testnet.dhtOpts, ...options })
    this.#nodes.push(node)
    await node.ready()
    return node
  }

  async closeNodes(): Promise<void> {
    for (const node of this.#nodes.splice(0).reverse()) await node.close()
  }

  async close(): Promise<void> {
    await this.closeNodes()
    for (const dir of this.#dirs.splice(0)) await rm(dir, { recursive: true, force: true })
  }
}
