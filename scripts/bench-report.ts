/**
 * Writes one benchmark's figures into BENCHMARKS.md, between the markers
 * `<!-- bench:NAME -->` and `<!-- /bench:NAME -->`, appending the section when it
 * is new. Each benchmark script owns its section, so reruns replace old figures.
 */
import { execFileSync } from 'node:child_process'
import { readFileSync, writeFileSync } from 'node:fs'
import { cpus } from 'node:os'
import { dirname, join } from 'node:path'
import { performance } from 'node:perf_hooks'
import { fileURLToPath } from 'node:url'

const benchmarksFile = join(dirname(fileURLToPath(import.meta.url)), '..', 'BENCHMARKS.md')

/** The speed check's workload, run in a fresh Node process so the benchmark's own heap does not weigh on it. */
const SPEED_CHECK_SCRIPT = `
const document = Array.from({ length: 5000 }, (_, index) => ({
  id: 'thing-' + index,
  code: 'AM-S19XP-' + String(index).padStart(4, '0'),
  info: { container: 'container-' + (index % 50), pos: (index % 4) + '-' + (index % 10) },
  stats: { status: index % 7 === 0 ? 'sleeping' : 'mining', hashrate: 136520392.369 + index, power: 3010.5 },
  tags: ['t-miner', 'id-' + index, 'code-AM-S19XP-' + index],
}))
const samples = []
for (let round = 0; round < 12; round++) {
  const started = performance.now()
  JSON.parse(JSON.stringify(document))
  if (round >= 3) samples.push(performance.now() - started)
}
samples.sort((a, b) => a - b)
console.log(samples[4])
`

/**
 * Milliseconds (median of 9) to stringify and parse a fixed 1 MB JSON document of 5,000 small
 * objects, in a fresh Node process. The project's VMs differ from day to day by up to 2× on the
 * same code; this figure, printed with every section, says how fast the machine was when the
 * section was written.
 */
export function machineSpeedCheck(): number {
  return Number(execFileSync(process.execPath, ['-e', SPEED_CHECK_SCRIPT], { encoding: 'utf8' }).trim())
}

export function recordBenchmark(name: string, command: string, markdownBody: string): void {
  const start = `<!-- bench:${name} -->`
  const end = `<!-- /bench:${name} -->`
  const speed = machineSpeedCheck().toFixed(1)
  const machine = `${cpus().length} cores (${cpus()[0]?.model ?? 'unknown cpu'}), Node ${process.version}, speed check ${speed} ms`
  const section = `${start}\n\nCommand: \`${command}\` — run ${new Date().toISOString().slice(0, 10)} on ${machine}\n\n${markdownBody.trim()}\n\n${end}`
  let text = readFileSync(benchmarksFile, 'utf8')
  const from = text.indexOf(start)
  const to = text.indexOf(end)
  text =
    from >= 0 && to > from
      ? text.slice(0, from) + section + text.slice(to + end.length)
      : `${text.trimEnd()}\n\n${section}\n`
  writeFileSync(benchmarksFile, text)
}

/** Median and percentile of a list of samples (milliseconds or any unit). */
export function percentile(samples: number[], p: number): number {
  const sorted = [...samples].sort((a, b) => a - b)
  if (sorted.length === 0) return Number.NaN
  const index = Math.min(sorted.length - 1, Math.max(0, Math.ceil((p / 100) * sorted.length) - 1))
  return sorted[index] as number
}

/**
 * How busy this process's event loop was over the sections passed to {@link BusyMeter.time}
 * (Node's event-loop utilisation: time running JavaScript or native callbacks, against time
 * waiting in the poll). Near 1, work done "while waiting for racks" cannot hide behind the
 * wait: the process has no idle time to put it in.
 */
export class BusyMeter {
  #active = 0
  #idle = 0

  async time<T>(work: () => Promise<T>): Promise<T> {
    const before = performance.eventLoopUtilization()
    try {
      return await work()
    } finally {
      const spent = performance.eventLoopUtilization(before)
      this.#active += spent.active
      this.#idle += spent.idle
    }
  }

  /** Share of the timed sections the event loop was busy, 0 to 1. */
  get share(): number {
    return this.#active / (this.#active + this.#idle)
  }
}
