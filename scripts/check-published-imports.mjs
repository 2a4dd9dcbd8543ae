#!/usr/bin/env node
/**
 * Checks that a package as published works in a project that installs only the package, where
 * the workspace's hoisted modules are not there to hide a missing dependency:
 * - every module its dist/*.js files import is a Node built-in or a dependency (or peer
 *   dependency);
 * - every module its dist/*.d.ts files import is also one that ships its own types. hyperbee,
 *   corestore and other Holepunch modules ship none: this repo types them in
 *   types/holepunch.d.ts, which is not published, so a declaration importing them breaks
 *   consumers' type checks (TS7016).
 *
 * - every entry point of `exports` loads with `require()`, as CommonJS callers (the MiningOS
 *   JavaScript services) load it on Node 20.19 or later: a top-level await would break that.
 *
 * Run in a package directory after its build (each package's `lint` script does).
 */
import { readdirSync, readFileSync, statSync } from 'node:fs'
import { builtinModules, createRequire } from 'node:module'
import { join } from 'node:path'

const packageDir = process.cwd()
const manifest = JSON.parse(readFileSync(join(packageDir, 'package.json'), 'utf8'))
const declared = new Set([...Object.keys(manifest.dependencies ?? {}), ...Object.keys(manifest.peerDependencies ?? {})])
const requireHere = createRequire(join(packageDir, 'package.json'))

/** `from 'x'`, `import 'x'`, `import('x')` and `require('x')` in a built file. */
const SPECIFIER = /(?:\bfrom\s*|\bimport\s*\(?\s*|\brequire\s*\(\s*)['"]([^'"]+)['"]/g

function builtFiles(dir) {
  return readdirSync(dir).flatMap((name) => {
    const path = join(dir, name)
    if (statSync(path).isDirectory()) return builtFiles(path)
    return /\.(?:d\.)?[cm]?[jt]s$/.test(name) ? [path] : []
  })
}

const packageNameOf = (specifier) =>
  specifier
    .split('/')
    .slice(0, specifier.startsWith('@') ? 2 : 1)
    .join('/')

function shipsTypes(name) {
  if (declared.has(`@types/${name.replace('@', '').replace('/', '__')}`)) return true
  let target
  try {
    target = JSON.parse(readFileSync(requireHere.resolve(`${name}/package.json`), 'utf8'))
  } catch {
    return false
  }
  return Boolean(target.types || target.typings || JSON.stringify(target.exports ?? {}).includes('"types"'))
}

const problems = []
for (const file of builtFiles(join(packageDir, 'dist'))) {
  const declaration = /\.d\.[cm]?ts$/.test(file)
  for (const [, specifier] of readFileSync(file, 'utf8').matchAll(SPECIFIER)) {
    if (specifier.startsWith('.') || specifier.startsWith('node:') || builtinModules.includes(specifier)) continue
    const name = packageNameOf(specifier)
    if (!declared.has(name)) problems.push(`${file}: imports '${specifier}', which is not a dependency`)
    else if (declaration && !shipsTypes(name)) problems.push(`${file}: imports '${specifier}', which ships no types`)
  }
}
// The package's own name resolves through its `exports` (self-reference), as it would for a caller.
for (const subpath of Object.keys(manifest.exports ?? {})) {
  if (subpath === './package.json') continue
  const entry = `${manifest.name}${subpath.slice(1)}`
  try {
    requireHere(entry)
  } catch (error) {
    problems.push(`require('${entry}') fails: ${error.code ?? ''} ${String(error.message).split('\n')[0]}`)
  }
}
if (problems.length > 0) {
  console.error(`${manifest.name}: not usable as published:`)
  for (const problem of new Set(problems)) console.error(`  ${problem}`)
  process.exit(1)
}
