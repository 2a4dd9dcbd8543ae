/**
 * Writes one benchmark's figures into BENCHMARKS.md, between the markers
 * `<!-- bench:NAME -->` and `<!-- /bench:NAME -->`, appending the section when it
 * is new. Each benchmark script owns its section, so reruns replace old figures.
 */
import { readFileSync, writeFileSync } from 'node:fs'
import { cpus } from 'node:os'
import { dirname, join } from 'node:path'
import { fileURLToPath } from 'node:url'

const benchmarksFile = join(dirname(fileURLToPath(import.meta.url)), '..', 'BENCHMARKS.md')

export function recordBenchmark(name: string, command: string, markdownBody: string): void {
  const start = `<!-- bench:${name} -->`
  const end = `<!-- /bench:${name} -->`
  const machine = `${cpus().length} cores (${cpus()[0]?.model ?? 'unknown cpu'}), Node ${process.version}`
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
