import { readdirSync } from 'node:fs'
import { dirname, join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { defineConfig } from 'vitest/config'

const root = dirname(fileURLToPath(import.meta.url))
const packagesDir = join(root, 'packages')

/**
 * Tests import sibling workspace packages from their TypeScript sources, so the
 * suite runs without a build and a change in one package is seen by all.
 */
const sourceAliases = readdirSync(packagesDir, { withFileTypes: true })
  .filter((entry) => entry.isDirectory())
  .flatMap((entry) => [
    { find: new RegExp(`^@ork/${entry.name}/testing$`), replacement: join(packagesDir, entry.name, 'src/testing.ts') },
    { find: new RegExp(`^@ork/${entry.name}$`), replacement: join(packagesDir, entry.name, 'src/index.ts') },
  ])

export default defineConfig({
  resolve: { alias: sourceAliases },
  test: {
    include: ['src/**/*.test.ts', 'test/**/*.test.ts'],
    testTimeout: 60_000,
    hookTimeout: 60_000,
    pool: 'forks',
    fileParallelism: false,
  },
})
