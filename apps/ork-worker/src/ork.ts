import { existsSync } from 'node:fs'
import { join, resolve } from 'node:path'
import { OrkError } from '@ork/errors'
import { createLogger, type Logger, summarizeRepeats } from '@ork/logger'
import { RackFanOut, RackRegistry } from '@ork/rack-registry'
import { RpcNode, removeInterruptedDeviceFile } from '@ork/rpc-transport'
import Corestore from 'corestore'
import Rache from 'rache'
import { AuditLog } from './actions/audit-log.ts'
import { CrossAggrActionsJob } from './actions/cross-aggr-actions.ts'
import { DEFAULT_ACTION_INTERVAL_MS, OrkActions } from './actions/ork-actions.ts'
import { loadWorkerConfig, type WorkerConfig } from './config/load-config.ts'
import type { OrkContext } from './context.ts'
import { orkMethods } from './methods/index.ts'
import { tailLogDependencies } from './methods/tail-log.ts'
import { listSiteThings } from './methods/things.ts'
import type { Environment } from './process/args.ts'
import { ensureInstanceId, loadStatus, saveStatus, statusFilePath, type WorkerStatus } from './process/status-file.ts'
import { parseRequest } from './rpc/method.ts'
import { StoreHealth } from './store-health.ts'
import { DEFAULT_TAIL_LOG_INTERVAL_MS, TailLogAggregationJob } from './tail-log/aggregate-job.ts'
import { TailLogHistoryStore } from './tail-log/history-store.ts'
import { OffThreadAggregation } from './tail-log/off-thread-aggregation.ts'
import { runTailLog } from './tail-log/run-tail-log.ts'

/**
 * Decoded Hyperbee nodes and keys the data store keeps in memory, all its bees together.
 * Without a shared cache each bee keeps up to 65,536 of them: measured, one bee taking
 * single puts grew by ~3 KB each until it levelled off at ~125 MB, and the ork has four
 * (racks, actions, audit, history). 4,096 holds the hot tops of the trees; a put-heavy bee
 * levels off at ~5 MB with 2,048.
 */
export const DATA_STORE_CACHE_ENTRIES = 4_096

/** The worker type the ork runs as; part of the status file and instance id names. */
export const ORK_WTYPE = 'wrk-ork-proc-aggr'

export interface StartOrkOptions {
  /** Cluster id (`--cluster`): names the status file and the stores. */
  cluster: string
  /** `--env`: selects `config/<env>.<name>.json` files. */
  env: Environment
  /** The service root: where `config/` and `status/` live (the CLI's `--serviceRoot`). Required. */
  root?: string
  /** Another name for `root`, after the CLI flag; `root` wins when both are given. */
  serviceRoot?: string
  /** Where `store/` lives: the reference uses the working directory. Defaults to `root`. */
  storeRoot?: string
  /** DHT options that override `config/facs/net.config.json` `r0.dhtOpts` (tests, demo). */
  dhtOpts?: Record<string, unknown>
  /** An already loaded config; read from `root` when omitted. */
  config?: WorkerConfig
  logger?: Logger
  /** Longest wait for in-flight requests when closing, in ms (default 10000). */
  drainTimeoutMs?: number
  /** The clock of the daily history (ms since the epoch; default Date.now). */
  now?: () => number
}

/** A running ork. */
export interface OrkHandle {
  /** The key racks and the API node dial (hex), `rpcPublicKey` in the status file. */
  rpcPublicKey: string
  /** The key the ork calls racks from (hex): what racks put in their `allow` list. */
  rpcClientKey: string
  instanceId: string
  statusFile: string
  context: OrkContext
  /** Stops taking requests, finishes those in flight (bounded), closes stores and sockets. Idempotent. */
  close(): Promise<void>
}

/**
 * Starts an ork: stores, keys, racks, every RPC method registered before the server
 * listens (Q49 FIX), then the status file. Used by the CLI and embedded by tests and
 * other services.
 */
export async function startOrk(options: StartOrkOptions): Promise<OrkHandle> {
  const prefix = `${ORK_WTYPE}-${options.cluster}`
  const baseLogger = options.logger ?? createLogger('ork:worker')
  // A problem that lasts (a rack down while the API node polls every few seconds, a peer retrying)
  // repeats the same warning at every request: each is written once, then summarised with its count
  // every 10 minutes, so that a site with a few racks down for days does not fill its disk with logs.
  const logger = summarizeRepeats(baseLogger)
  const rootOption = options.root ?? options.serviceRoot
  if (typeof rootOption !== 'string' || rootOption === '') {
    throw new TypeError('startOrk: `root`, the service root directory (config/, status/), is required')
  }
  const serviceRoot = resolve(rootOption)
  const storeRoot = resolve(options.storeRoot ?? serviceRoot)
  const config = options.config ?? loadWorkerConfig(serviceRoot, options.env)

  const statusFile = statusFilePath(serviceRoot, prefix)
  const status: WorkerStatus = loadStatus(statusFile)
  if (status.instanceId === undefined && existsSync(statusFile)) {
    // As the reference, an unreadable status file counts as none; the new instance id should not pass unnoticed.
    logger.warn('status file unreadable or without instanceId: a new instance id is written', { file: statusFile })
  }
  // Written with the keys once started: a failed start leaves no status file without keys.
  const instanceId = ensureInstanceId(status, prefix)

  if (config.net.allowLocal !== undefined) {
    logger.warn('net config allowLocal was removed and is ignored', { file: 'config/facs/net.config.json' })
  }

  const dataStoreDir = join(storeRoot, 'store', `${options.cluster}-db`)
  if (removeInterruptedDeviceFile(dataStoreDir)) {
    logger.warn('removed the empty device file a crash during its first open left', { storeDir: dataStoreDir })
  }
  const dataStore = new Corestore(dataStoreDir, {
    globalCache: new Rache({ maxSize: DATA_STORE_CACHE_ENTRIES }),
  })
  const node = new RpcNode({
    storeDir: join(storeRoot, 'store', options.cluster),
    dhtOpts: { ...(config.net.dhtOpts ?? {}), ...(options.dhtOpts ?? {}) },
    allow: config.net.allow,
    allowReadOnly: config.net.allowReadOnly,
    logger: logger.child('rpc'),
  })
  const registry = new RackRegistry({ store: dataStore, logger: logger.child('racks') })
  const storeHealth = new StoreHealth({ storeDir: dataStoreDir, logger })
  const onWriteFailed = (error: unknown) => storeHealth.noteFailure(error)
  const closers: (() => Promise<void>)[] = []
  const closeAll = async () => {
    for (const close of closers.splice(0).reverse()) {
      await close().catch((error: unknown) => logger.error('close failed', { error }))
    }
  }

  try {
    await dataStore.ready()
    closers.push(() => dataStore.close())
    await node.ready()
    closers.push(() => node.close())
    await registry.ready()
    closers.push(() => registry.close())
    // Its lines are a rack's state changes (marked down, answers again): every one is written.
    const racks = new RackFanOut({ transport: node, logger: baseLogger.child('fanout') })
    const auditLog = new AuditLog({
      store: dataStore,
      maxEntries: config.ork.auditLogMaxEntries,
      retentionDays: config.ork.auditLogRetentionDays,
      onWriteFailed,
      logger: logger.child('audit'),
    })
    await auditLog.ready()
    closers.push(() => auditLog.close())
    // Opening the approver also finishes what a crash left executing (never sent again).
    const actions = new OrkActions({
      store: dataStore,
      registry,
      racks,
      callTargetsLimit: config.ork.callTargetsLimit,
      executionTimeoutMs: config.ork.actionExecutionTimeoutMs,
      auditLog,
      closeWaitMs: options.drainTimeoutMs ?? 10_000,
      onWriteFailed,
      logger: logger.child('actions'),
    })
    await actions.ready()
    closers.push(() => actions.close())
    const tailLogHistory = new TailLogHistoryStore({
      store: dataStore,
      onWriteFailed,
      logger: logger.child('tail-log'),
    })
    await tailLogHistory.ready()
    closers.push(() => tailLogHistory.close())
    const tailLogThread = new OffThreadAggregation({ logger: logger.child('tail-log') })
    closers.push(() => tailLogThread.close())
    const now = options.now ?? Date.now

    const context: OrkContext = {
      config,
      globalConfig: config.globalConfig ? structuredClone(config.globalConfig) : undefined,
      registry,
      racks,
      maxReplyBytes: node.maxPayloadBytes,
      logger,
      actions,
      auditLog,
      tailLogHistory,
      tailLogThread,
      tailLogAggregation: undefined,
      now,
    }
    // The reference registers the daily history job only when both configs are loaded (ork-behaviour.md 1.5).
    if (config.aggrData && config.aggrStats) {
      const dependencies = tailLogDependencies(context)
      const job = new TailLogAggregationJob({
        store: tailLogHistory,
        aggrData: () => config.aggrData,
        timezones: () => context.globalConfig?.aggrTailLogTimezones,
        tailLog: (request) => runTailLog(dependencies, request),
        aggrSpec: (type) => config.aggrStats?.[type.split('-')[0] as string] ?? null,
        now,
        logger: logger.child('tail-log'),
      })
      context.tailLogAggregation = job
      closers.push(() => job.close())
      storeHealth.onRefusal(() => void job.close())
    }
    storeHealth.onRefusal(() => actions.stopInterval())

    const inFlight = new Set<Promise<unknown>>()
    let closing = false
    const track = <T>(work: () => Promise<T>): Promise<T> => {
      if (closing) return Promise.reject(new OrkError('ERR_ORK_CLOSING'))
      const promise = work()
      inFlight.add(promise)
      const forget = () => inFlight.delete(promise)
      promise.then(forget, forget)
      return promise
    }

    const echo = (request: Buffer) => request
    node.respondRaw('ping', echo)
    node.respondRaw('echo', echo)
    node.respond('getInstanceId', () => instanceId, { op: 'r' })
    for (const method of orkMethods(context)) {
      node.respond(
        method.name,
        (payload, call) =>
          track(async () => {
            const remotePublicKey = call.remotePublicKey.toString('hex')
            const run = async () => {
              try {
                const request = parseRequest(method, payload)
                return await method.handle(request, { remotePublicKey })
              } catch (error) {
                logger.debug('request failed', { method: method.name, error })
                throw error
              }
            }
            if (method.op === 'r') return run()
            // Once the store refuses writes, a write is refused before anything happens: no rack is
            // asked to do what the ork could neither record nor audit.
            storeHealth.assertWritable()
            return auditLog.track(method.name, remotePublicKey, payload, run)
          }),
        { op: method.op },
      )
    }
    await node.listen()
    // `||` as the reference: 0 means the default (ork-behaviour.md 1.2, 7.1, 7.2).
    actions.startInterval(config.ork.actionIntvlMs || DEFAULT_ACTION_INTERVAL_MS)
    context.tailLogAggregation?.start(config.aggrData?.agrrTailLogIntvlMs || DEFAULT_TAIL_LOG_INTERVAL_MS)
    if (config.crossAggrAction) {
      const automationLogger = logger.child('automation')
      const automation = new CrossAggrActionsJob({
        config: () => config.crossAggrAction,
        globalConfig: () => context.globalConfig,
        // The ork's own listThings, sort included (7.2 step 3); its racks' failures are logged as the
        // automation's, to tell them from the API node's requests.
        listThings: (request) => listSiteThings({ ...context, logger: automationLogger }, request),
        pushAction: (request) => auditLog.track('pushAction', 'automation', request, () => actions.pushAction(request)),
        logger: automationLogger,
      })
      automation.start(config.crossAggrAction.agrrListThingsIntvlMs || undefined)
      closers.push(() => automation.close(options.drainTimeoutMs ?? 10_000))
      storeHealth.onRefusal(() => void automation.close(options.drainTimeoutMs ?? 10_000))
    }

    const rpcPublicKey = node.rpcPublicKey.toString('hex')
    const rpcClientKey = node.clientPublicKey.toString('hex')
    Object.assign(status, { rpcPublicKey, rpcClientKey })
    saveStatus(statusFile, status)
    logger.info('ork started', {
      cluster: options.cluster,
      rpcPublicKey,
      rpcClientKey,
      racks: registry.size,
      firewall: describeFirewall(config.net),
    })

    let closed: Promise<void> | null = null
    return {
      rpcPublicKey,
      rpcClientKey,
      instanceId,
      statusFile,
      context,
      close() {
        closed ??= (async () => {
          closing = true
          const drainTimeout = options.drainTimeoutMs ?? 10_000
          const pending = [...inFlight]
          if (pending.length > 0) logger.info('finishing requests in flight', { count: pending.length })
          let timer: NodeJS.Timeout | undefined
          await Promise.race([
            Promise.allSettled(pending),
            new Promise((done) => {
              timer = setTimeout(done, drainTimeout)
            }),
          ])
          clearTimeout(timer)
          await closeAll()
          logger.close()
          logger.info('ork stopped', { cluster: options.cluster })
        })()
        return closed
      },
    }
  } catch (error) {
    await closeAll()
    logger.close()
    throw error
  }
}

/** Who may call the ork, as the "ork started" line says it: a typo in net.config.json shows there. */
function describeFirewall(net: WorkerConfig['net']): string {
  if (!net.allow && !net.allowReadOnly) return 'open to every peer (no allow list in config/facs/net.config.json)'
  return `allow list: ${net.allow?.length ?? 0} keys, read-only: ${net.allowReadOnly?.length ?? 0} keys`
}
