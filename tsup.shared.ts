import { defineConfig } from 'tsup'

/**
 * The build every workspace package shares: ESM for Node 20 with source maps. `entry` lists
 * every file that becomes its own dist file (a bin such as a CLI, whose `#!` line esbuild keeps
 * at the top); `typed` those of them that the package exports, which get type declarations.
 */
export function packageBuild(entry: string[] = ['src/index.ts'], typed: string[] = ['src/index.ts']) {
  return defineConfig({
    entry,
    format: ['esm'],
    target: 'node20',
    dts: { entry: typed },
    sourcemap: true,
    clean: true,
  })
}
