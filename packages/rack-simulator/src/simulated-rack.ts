import { OrkError } from '@ork/errors'
import { type Logger, silentLogger } from '@ork/logger'
import * as transport from '@ork/rpc-transport'
import { type ExecutedCall, RackModel, type RackModelOptions } from './rack-model.ts'
import { answerRackRequest, type PendingRequests, type RackFaults } from './wire.ts'

/** The part of an `@ork/rpc-transport` RpcNode a simulated rack uses. */
export interface RackServerNode {
  readonly rpcPublicKey: Buffer
  readonly clientPublicKey: Buffer
  ready(): Promise<void>
  respondRaw(method: string, handler: (request: Buffer, context: { remotePublicKey: Buffer }) => Promise<Buffer>): void
  listen(): Promise<void>
  close(): Promise<void>
}

/** Options the node factory receives (those of `new RpcNode(...)`). */
export interface RackNodeOptions {
  storeDir: string
  dhtOpts: unknown
  allow?: string[]
  allowReadOnly?: string[]
  logger: Logger
}

/** Options of a {@link SimulatedRack}. */
export interface SimulatedRackOptions extends RackModelOptions {
  /** Corestore directory of the rack (its keys persist there). */
  storeDir: string
  /** HyperDHT options (bootstrap, host), e.g. a loopback testnet's `dhtOpts`. */
  dhtOpts: unknown
  /** Firewall: client keys (`rpcClientKey`) allowed to call; absent = everyone. */
  allow?: string[]
  faults?: RackFaults
  logger?: Logger
  /** Builds the RPC node (default: `new RpcNode(options)` from @ork/rpc-transport). */
  createNode?: (options: RackNodeOptions) => RackServerNode
}

/** What the ork's `registerRack` takes for a rack (rack-protocol.md section 2). */
export interface RackRegistration {
  id: string
  type: string
  info: { rpcPublicKey: string }
}

function defaultNode(options: RackNodeOptions): RackServerNode {
  const RpcNode = (transport as Record<string, unknown>).RpcNode as
    | (new (
        nodeOptions: RackNodeOptions,
      ) => RackServerNode)
    | undefined
  if (!RpcNode) throw new OrkError('ERR_RPC_TRANSPORT_UNAVAILABLE')
  return new RpcNode(options)
}

/**
 * One simulated rack worker: a {@link RackModel} served over Hyperswarm RPC
 * with the rack's method names and wire framing, plus fault injection.
 */
export class SimulatedRack {
  readonly model: RackModel
  /** Current fault settings; replace with {@link SimulatedRack.setFaults}. */
  faults: RackFaults
  /** Requests received per method (counted on arrival, before faults apply): tests wait on it. */
  readonly received = new Map<string, number>()
  private readonly node: RackServerNode
  private readonly parked = new Set<(error: Error) => void>()
  private readyPromise: Promise<void> | undefined
  private closePromise: Promise<void> | undefined
  private readonly pending: PendingRequests = {
    park: () =>
      new Promise<never>((_resolve, reject) => {
        if (this.closePromise) reject(new OrkError('ERR_RACK_CLOSED'))
        else this.parked.add(reject)
      }),
  }

  constructor(options: SimulatedRackOptions) {
    this.model = new RackModel(options)
    this.faults = { ...(options.faults ?? {}) }
    const nodeOptions: RackNodeOptions = {
      storeDir: options.storeDir,
      dhtOpts: options.dhtOpts,
      logger: options.logger ?? silentLogger,
    }
    if (options.allow) nodeOptions.allow = options.allow
    this.node = (options.createNode ?? defaultNode)(nodeOptions)
  }

  /** Rack id, e.g. `miner-am-s19xp-rack-1`. */
  get id(): string {
    return this.model.rackId
  }

  /** Thing type served, e.g. `miner-am-s19xp`. */
  get type(): string {
    return this.model.type
  }

  /** Every write the rack executed (queryThing actions, registerThing, updateThing, forgetThings, rackReboot). */
  get executedCalls(): ExecutedCall[] {
    return this.model.executedCalls
  }

  /** Server key (hex) callers dial; available after `ready()`. */
  get rpcPublicKey(): string {
    return this.node.rpcPublicKey.toString('hex')
  }

  /** DHT key (hex) this rack would call out with. */
  get rpcClientKey(): string {
    return this.node.clientPublicKey.toString('hex')
  }

  /** Replaces the fault settings (takes effect for the next request). */
  setFaults(faults: RackFaults): void {
    this.faults = { ...faults }
  }

  /** The payload the ork's `registerRack` expects for this rack. */
  registration(): RackRegistration {
    return { id: this.id, type: this.type, info: { rpcPublicKey: this.rpcPublicKey } }
  }

  /** Opens the store, registers every rack method and starts serving (idempotent). */
  ready(): Promise<void> {
    this.readyPromise ??= (async () => {
      await this.node.ready()
      this.model.rpcPublicKey = this.rpcPublicKey
      for (const method of [...this.model.methods(), 'echo', 'ping']) {
        this.node.respondRaw(method, (request) => {
          this.received.set(method, (this.received.get(method) ?? 0) + 1)
          return answerRackRequest(this.model, this.faults, this.pending, method, request)
        })
      }
      await this.node.listen()
    })()
    return this.readyPromise
  }

  /** Releases parked requests and closes the server (idempotent). */
  close(): Promise<void> {
    this.closePromise ??= (async () => {
      for (const reject of this.parked) reject(new OrkError('ERR_RACK_CLOSED'))
      this.parked.clear()
      await this.readyPromise?.catch(() => undefined)
      await this.node.close()
    })()
    return this.closePromise
  }
}
