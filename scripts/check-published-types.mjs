#!/usr/bin/env node
/**
 * Checks that a package's published type declarations load in a project that installs only
 * the package: every module its dist/*.d.ts files import must be a Node built-in, or a
 * dependency (or peer dependency) that ships its own types. hyperbee, corestore and other
 * Holepunch modules ship none: this repo types them in types/holepunch.d.ts, which is not
 * published, so a declaration importing them breaks consumers' type checks (TS7016).
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

/** `from 'x'`, `import 'x'` and `import('x')` in a declaration file. */
const SPECIFIER = /(?:\bfrom\s*|\bimport\s*\(?\s*)['"]([^'"]+)['"]/g

function declarationFiles(dir) {
  return readdirSync(dir).flatMap((name) => {
    const path = join(dir, name)
    if (statSync(path).isDirectory()) return declarationFiles(path)
    return /\.d\.[cm]?ts$/.test(name) ? [path] : []
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
for (const file of declarationFiles(join(packageDir, 'dist'))) {
  for (const [, specifier] of readFileSync(file, 'utf8').matchAll(SPECIFIER)) {
    if (specifier.startsWith('.') || specifier.startsWith('node:') || builtinModules.includes(specifier)) continue
    const name = packageNameOf(specifier)
    if (!declared.has(name)) problems.push(`${file}: imports '${specifier}', which is not a dependency`)
    else if (!shipsTypes(name)) problems.push(`${file}: imports '${specifier}', which ships no types`)
  }
}
if (problems.length > 0) {
  console.error(`${manifest.name}: published declarations need modules a consumer cannot type:`)
  for (const problem of new Set(problems)) console.error(`  ${problem}`)
  process.exit(1)
}
