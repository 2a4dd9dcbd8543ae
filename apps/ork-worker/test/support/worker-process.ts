import { type ChildProcessWithoutNullStreams, spawn } from 'node:child_process'
import { join } from 'node:path'

/** The built worker (`pnpm build` first): the tests run it as the operator does. */
export const workerScript = join(import.meta.dirname, '..', '..', 'dist', 'worker.js')

/** The keys the worker prints on stdout once started (and writes to its status file). */
export interface WorkerKeys {
  rpcPublicKey: string
  rpcClientKey: string
  instanceId: string
}

export interface WorkerExit {
  code: number | null
  signal: NodeJS.Signals | null
  stderr: string
}

export interface SpawnedWorker {
  child: ChildProcessWithoutNullStreams
  /** What the worker wrote on stderr so far (its log lines). */
  stderr(): string
  exited: Promise<WorkerExit>
}

export interface RunningWorker extends SpawnedWorker {
  keys: WorkerKeys
}

/** The arguments of `node worker.js` for one cluster on one service root (env production). */
export const workerArgs = (cluster: string, serviceRoot: string): string[] => [
  '--wtype',
  'wrk-ork-proc-aggr',
  '--env',
  'production',
  '--cluster',
  cluster,
  '--serviceRoot',
  serviceRoot,
]

export interface SpawnOptions {
  /**
   * The worker's file size limit (`ulimit -f`, RLIMIT_FSIZE), in KiB: a write that would grow a
   * file past it fails with EFBIG, as a full disk fails it with ENOSPC, without root or a small
   * file system. The limit is per file.
   */
  fileSizeLimitKiB?: number
}

/** Every worker spawned, so that one left running by a failed test cannot hold its store for the next ones. */
const children: ChildProcessWithoutNullStreams[] = []

/** Spawns the worker with `args` in `cwd` (where its store/ goes). */
export function spawnWorker(args: string[], cwd: string, options: SpawnOptions = {}): SpawnedWorker {
  const env = { ...process.env, DEBUG: '' }
  const limit = options.fileSizeLimitKiB
  // bash ignores SIGXFSZ (else the kernel kills a process writing past the limit instead of failing
  // the write), sets the limit, then becomes node: both are inherited.
  const child =
    limit === undefined
      ? spawn(process.execPath, [workerScript, ...args], { cwd, env })
      : spawn(
          'bash',
          ['-c', `trap '' XFSZ; ulimit -f ${limit}; exec "$0" "$@"`, process.execPath, workerScript, ...args],
          { cwd, env },
        )
  children.push(child)
  let stderr = ''
  child.stderr.on('data', (chunk) => {
    stderr += chunk
  })
  const exited = new Promise<WorkerExit>((resolve) =>
    child.on('exit', (code, signal) => resolve({ code, signal, stderr })),
  )
  return { child, stderr: () => stderr, exited }
}

/** Spawns the worker and waits until it prints its keys (rejects if it exits first). */
export async function startWorker(args: string[], cwd: string, options: SpawnOptions = {}): Promise<RunningWorker> {
  const worker = spawnWorker(args, cwd, options)
  const keys = await new Promise<WorkerKeys>((resolve, reject) => {
    let stdout = ''
    worker.child.stdout.on('data', (chunk) => {
      stdout += chunk
      // complete lines only: a chunk may end inside the JSON line
      const line = stdout
        .split('\n')
        .slice(0, -1)
        .find((text) => text.startsWith('{'))
      if (line) resolve(JSON.parse(line))
    })
    worker.exited.then(({ code, signal, stderr }) =>
      reject(new Error(`worker exited with ${code ?? signal}: ${stderr}`)),
    )
  })
  return { ...worker, keys }
}

/** SIGKILLs every worker spawned here that still runs (afterAll). */
export function killWorkers(): void {
  for (const child of children) if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL')
}

/** One JSON log line of the worker (@ork/logger). */
export interface LogLine {
  level: string
  msg: string
  [field: string]: unknown
}

/** The complete JSON lines of a worker's stderr (the last one may still be being written). */
export const logLines = (stderr: string): LogLine[] =>
  stderr
    .split('\n')
    .slice(0, -1)
    .filter((line) => line.startsWith('{'))
    .map((line) => JSON.parse(line) as LogLine)
