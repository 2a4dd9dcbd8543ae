#!/usr/bin/env node
/**
 * The demo: `node apps/ork-worker/dist/demo.js` (the README's first command runs it). An ork
 * on an embedded loopback DHT, with simulated racks (miners, containers, a powermeter)
 * registered with it, in a temporary service root made from the repository's config
 * examples. Prints the ork's key, the bootstrap address and ork-rpc commands to paste;
 * Ctrl-C stops everything and removes the temporary files.
 */
import { cpSync, existsSync, mkdtempSync, readdirSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join, relative, resolve } from 'node:path'
import { fileURLToPath } from 'node:url'
import { createLogger } from '@ork/logger'
import { type SiteRackSpec, startSimulatedSite } from '@ork/rack-simulator'
import { createLoopbackTestnet } from '@ork/rpc-transport/testing'
import { type OrkHandle, startOrk } from './ork.ts'

// The reference's launcher runs in UTC; date maths must not depend on the host's zone.
process.env.TZ = 'UTC'

/** The demo site: ~430 devices, each producing 5-minute stats. */
const DEMO_SITE: SiteRackSpec[] = [
  { type: 'container-bd-d40', count: 4 },
  { type: 'miner-am-s19xp', count: 160, racks: 2 },
  { type: 'miner-wm-m56s', count: 100 },
  { type: 'powermeter-abb', count: 3 },
]

const CLUSTER = 'demo'

/** apps/ork-worker/{src,dist} → the repository root. */
const repositoryRoot = resolve(fileURLToPath(new URL('.', import.meta.url)), '..', '..', '..')

/** A service root laid out as `./setup-config.sh` would, open to every peer (the DHT is loopback only). */
function createDemoServiceRoot(): string {
  const root = mkdtempSync(join(tmpdir(), 'ork-demo-'))
  const configDir = join(root, 'config')
  cpSync(join(repositoryRoot, 'config'), configDir, { recursive: true })
  const copyExamples = (directory: string) => {
    for (const entry of readdirSync(directory, { withFileTypes: true })) {
      const path = join(directory, entry.name)
      if (entry.isDirectory()) copyExamples(path)
      else if (entry.name.endsWith('.example')) cpSync(path, path.slice(0, -'.example'.length))
    }
  }
  copyExamples(configDir)
  writeFileSync(join(configDir, 'facs', 'net.config.json'), JSON.stringify({ r0: {} }))
  return root
}

/** How to run ork-rpc from the working directory: the workspace's built CLI, else the installed bin. */
function orkRpcCommand(): string {
  const cli = join(repositoryRoot, 'packages', 'ork-rpc', 'dist', 'cli.js')
  if (!existsSync(cli)) return 'ork-rpc'
  const path = relative(process.cwd(), cli)
  return `node ${path.startsWith('..') ? cli : path}`
}

/** The three commands the demo suggests, as lines to paste in a POSIX shell. */
function demoCommands(bootstrap: string, rpcPublicKey: string): string[] {
  const prefix = `${orkRpcCommand()} --bootstrap ${bootstrap} -s ${rpcPublicKey}`
  const things = {
    query: { type: { $regex: '^miner' } },
    fields: { id: 1, code: 1, type: 1, 'info.container': 1 },
    sort: { code: 1 },
    limit: 2,
  }
  const tailLog = { type: 'miner', key: 'stat-5m', tag: 't-miner', limit: 3 }
  return [
    `${prefix} -m listRacks -d '{}'`,
    `${prefix} -m listThings -d '${JSON.stringify(things)}'`,
    `${prefix} -m tailLog -d '${JSON.stringify(tailLog)}'`,
  ]
}

async function main(): Promise<void> {
  const logger = createLogger('ork:demo', { level: (process.env.ORK_LOG_LEVEL as 'info' | undefined) ?? 'warn' })
  const root = createDemoServiceRoot()
  const closers: (() => Promise<unknown>)[] = [async () => rmSync(root, { recursive: true, force: true })]
  const closeAll = async () => {
    for (const close of closers.splice(0).reverse()) {
      await close().catch((error: unknown) => logger.error('demo: close failed', { error }))
    }
  }
  let ork: OrkHandle
  let deviceCount = 0
  let bootstrap: string
  try {
    const testnet = await createLoopbackTestnet()
    closers.push(() => testnet.destroy())
    const first = testnet.bootstrap[0] as { host: string; port: number }
    bootstrap = `${first.host}:${first.port}`
    const site = await startSimulatedSite({
      dhtOpts: testnet.dhtOpts,
      racks: DEMO_SITE,
      seed: 'demo',
      rootDir: join(root, 'racks'),
      logger: logger.child('racks'),
    })
    closers.push(() => site.close())
    ork = await startOrk({
      cluster: CLUSTER,
      env: 'production',
      root,
      dhtOpts: testnet.dhtOpts,
      logger: logger.child('ork'),
      drainTimeoutMs: 2_000,
    })
    closers.push(() => ork.close())
    for (const registration of site.registrations) await ork.context.registry.register(registration)
    for (const spec of DEMO_SITE) deviceCount += spec.count * (spec.racks ?? 1)
  } catch (error) {
    await closeAll()
    throw error
  }

  const racks = ork.context.registry.all()
  const lines = [
    'ork demo running: an ork, a loopback DHT and simulated racks in this process (Ctrl-C stops it).',
    '',
    `  ork rpcPublicKey   ${ork.rpcPublicKey}`,
    `  ork rpcClientKey   ${ork.rpcClientKey}`,
    `  DHT bootstrap      ${bootstrap} (loopback testnet)`,
    `  status file        ${ork.statusFile}`,
    `  racks              ${racks.length} (${racks.map((rack) => rack.id).join(', ')})`,
    `  devices            ${deviceCount}, with 5-minute stats`,
    '',
    'Try, in another terminal from the repository root:',
    '',
    ...demoCommands(bootstrap, ork.rpcPublicKey).map((command) => `  ${command}`),
    '',
    `(-s also takes the status file; --raw prints compact JSON; the API: docs/api.md)`,
    '',
  ]
  process.stdout.write(`${lines.join('\n')}\n`)

  let stopping = false
  const stop = (signal: NodeJS.Signals) => {
    if (stopping) return
    stopping = true
    process.stdout.write(`\n${signal}: stopping the demo…\n`)
    // A hung close must not leave the terminal waiting forever.
    setTimeout(() => {
      process.stderr.write('demo: close took too long, exiting\n')
      process.exit(1)
    }, 15_000).unref()
    closeAll().then(
      () => {
        process.stdout.write('demo stopped.\n')
        process.exit(0)
      },
      (error: unknown) => {
        logger.error('demo: shutdown failed', { error })
        process.exit(1)
      },
    )
  }
  process.on('SIGINT', stop)
  process.on('SIGTERM', stop)
  process.on('unhandledRejection', (error) => logger.error('unhandled rejection', { error }))
}

main().catch((error: unknown) => {
  process.stderr.write(`ork demo: failed to start: ${(error as Error)?.stack ?? String(error)}\n`)
  process.exit(1)
})
