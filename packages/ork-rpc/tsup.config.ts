import { defineConfig } from 'tsup'

export default defineConfig({
  // cli.ts starts with a `#!/usr/bin/env node` line, which esbuild keeps at the top of dist/cli.js
  entry: ['src/index.ts', 'src/cli.ts'],
  format: ['esm'],
  target: 'node20',
  dts: { entry: 'src/index.ts' },
  sourcemap: true,
  clean: true,
})
