/**
 * Writes docs/api.md and packages/ork-rpc/src/ork-methods.json from the zod schemas of
 * every RPC method: `pnpm api-docs`. test/api-docs.test.ts fails
 * when the committed files differ from what this writes.
 */
import { execFileSync } from 'node:child_process'
import { mkdirSync, writeFileSync } from 'node:fs'
import { dirname } from 'node:path'
import { generateApiFiles, generatedFilePath } from '../src/api/api-outputs.ts'

for (const file of generateApiFiles()) {
  const path = generatedFilePath(file)
  mkdirSync(dirname(path), { recursive: true })
  writeFileSync(path, file.content)
  // `biome check .` runs in CI: leave the JSON laid out as the formatter wants it
  if (path.endsWith('.json')) execFileSync('npx', ['biome', 'format', '--write', path], { stdio: 'ignore' })
  process.stdout.write(`wrote ${file.path}\n`)
}
