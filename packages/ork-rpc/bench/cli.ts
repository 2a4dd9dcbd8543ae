/**
 * What an ork-rpc call costs: a whole `node dist/cli.js` process (what a shell user waits
 * for) and one runOrkRpc in a running process (fresh client key and DHT node per call),
 * against a server on a loopback testnet. Run: pnpm --filter @ork/rpc-cli bench (needs a build).
 */
import { execFile } from 'node:child_process'
import { existsSync, mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { RpcNode } from '@ork/rpc-transport'
import { createLoopbackTestnet } from '@ork/rpc-transport/testing'
import { percentile, recordBenchmark } from '../../../scripts/bench-report.ts'
import { orkMethod, validateOrkRequest } from '../src/ork-methods.ts'
import { runOrkRpc } from '../src/run.ts'

const cliPath = join(import.meta.dirname, '..', 'dist', 'cli.js')
if (!existsSync(cliPath)) throw new Error('build @ork/rpc-cli first (pnpm --filter @ork/rpc-cli build)')

const testnet = await createLoopbackTestnet()
const directory = mkdtempSync(join(tmpdir(), 'ork-rpc-bench-'))
const server = new RpcNode({ storeDir: join(directory, 'server'), dhtOpts: testnet.dhtOpts })
const things = Array.from({ length: 1000 }, (_, index) => ({ id: `thing-${index}`, code: `T-${index}`, info: {} }))
server.respond('listThings', () => things)
await server.listen()
const key = server.rpcPublicKey.toString('hex')
const bootstrap = testnet.bootstrap.flatMap(({ host, port }) => ['--bootstrap', `${host}:${port}`])
const args = [...bootstrap, '-s', key, '-m', 'listThings', '-d', '{"limit":1000}', '--raw']

const time = async (runs: number, once: () => Promise<void>) => {
  const samples: number[] = []
  for (let run = 0; run < runs; run++) {
    const started = performance.now()
    await once()
    samples.push(performance.now() - started)
  }
  return samples
}

const processSamples = await time(
  10,
  () =>
    new Promise((done, fail) => {
      execFile(process.execPath, [cliPath, ...args], (error) => (error ? fail(error) : done()))
    }),
)
const quiet = { stdout: { write: () => true }, stderr: { write: () => true } }
const inProcessSamples = await time(20, async () => {
  if ((await runOrkRpc(args, quiet)) !== 0) throw new Error('call failed')
})
const method = orkMethod('listThings')
if (!method) throw new Error('listThings is not documented')
const payload = { query: { type: { $regex: '^miner' } }, fields: { id: 1 }, sort: { code: 1 }, limit: 100 }
const validations = 100_000
const validationStarted = performance.now()
for (let index = 0; index < validations; index++) validateOrkRequest(method, payload)
const validationMicros = ((performance.now() - validationStarted) * 1000) / validations

await server.close()
await testnet.destroy()
rmSync(directory, { recursive: true, force: true })

const row = (name: string, samples: number[]) =>
  `| ${name} | ${samples.length} | ${percentile(samples, 50).toFixed(0)} | ${percentile(samples, 95).toFixed(0)} |`
const body = [
  'listThings replying 1000 things from a server on a loopback testnet (2 cores, Node 20).',
  '',
  '| call | runs | p50 ms | p95 ms |',
  '|---|---|---|---|',
  row('`node dist/cli.js …` (whole process)', processSamples),
  row('`runOrkRpc` in a running process (fresh key, DHT node, connection)', inProcessSamples),
  '',
  `Payload validation against the API reference: ${validationMicros.toFixed(1)} µs per listThings payload.`,
  'The process cost is mostly Node start-up, module loading and the first DHT lookup; the ork itself',
  'answers such a call in well under a millisecond on loopback.',
].join('\n')
process.stdout.write(`${body}\n`)
recordBenchmark('ork-rpc', 'pnpm --filter @ork/rpc-cli bench', body)
