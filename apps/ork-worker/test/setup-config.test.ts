import { spawnSync } from 'node:child_process'
import { cpSync, existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join, relative } from 'node:path'
import { afterEach, beforeEach, describe, expect, it } from 'vitest'
import { loadWorkerConfig } from '../src/config/load-config.ts'
import { repositoryConfigDir } from './support/harness.ts'

const script = join(repositoryConfigDir, '..', 'setup-config.sh')
let root: string

const runSetup = (...args: string[]) =>
  spawnSync('bash', [script, ...args], { env: { ...process.env, CONFIG_DIR: join(root, 'config') }, encoding: 'utf8' })

/** Every `*.example` under config/, relative to it. */
function examples(directory = join(root, 'config')): string[] {
  return readdirSync(directory, { withFileTypes: true, recursive: true })
    .filter((entry) => entry.isFile() && entry.name.endsWith('.example'))
    .map((entry) => relative(join(root, 'config'), join(entry.parentPath, entry.name)))
}

beforeEach(() => {
  root = mkdtempSync(join(tmpdir(), 'ork-setup-config-'))
  cpSync(repositoryConfigDir, join(root, 'config'), { recursive: true })
})
afterEach(() => rmSync(root, { recursive: true, force: true }))

describe('setup-config.sh', () => {
  it('copies every example to its real name and never overwrites a file', () => {
    const edited = join(root, 'config/base.ork.json')
    writeFileSync(edited, '{"actionIntvlMs": 7000}')
    const first = runSetup()
    expect(first.status).toBe(0)
    expect(examples().length).toBeGreaterThanOrEqual(8)
    for (const example of examples()) {
      expect(existsSync(join(root, 'config', example.slice(0, -'.example'.length))), example).toBe(true)
    }
    expect(readFileSync(edited, 'utf8')).toBe('{"actionIntvlMs": 7000}')
    expect(first.stdout).toContain(`kept    ${edited}`)
    expect(existsSync(join(root, 'config/test.base.ork.json'))).toBe(false)

    const again = runSetup()
    expect(again.stdout).not.toContain('created')
    expect(loadWorkerConfig(root, 'production').ork.actionIntvlMs).toBe(7000)
  })

  it('--test also writes the test.<name> copies the worker reads with --env test', () => {
    expect(runSetup('--test').status).toBe(0)
    for (const example of examples()) {
      const target = join(root, 'config', example.slice(0, -'.example'.length))
      expect(existsSync(join(target, '..', `test.${target.split('/').pop()}`)), example).toBe(true)
    }
    writeFileSync(join(root, 'config/test.base.ork.json'), '{"actionIntvlMs": 1234}')
    expect(loadWorkerConfig(root, 'test').ork.actionIntvlMs).toBe(1234)
    expect(loadWorkerConfig(root, 'production').ork.actionIntvlMs).toBe(5000)
  })

  it('fails with a message when the config directory is missing or holds no example', () => {
    rmSync(join(root, 'config'), { recursive: true })
    const missing = runSetup()
    expect(missing.status).toBe(1)
    expect(missing.stderr).toContain(`${join(root, 'config')} is not a directory`)
    cpSync(join(repositoryConfigDir, 'README.md'), join(root, 'config', 'README.md'))
    const empty = runSetup()
    expect(empty.status).toBe(1)
    expect(empty.stderr).toContain(`no *.example file under ${join(root, 'config')}`)
  })

  it('refuses unknown options', () => {
    const result = runSetup('--force')
    expect(result.status).toBe(2)
    expect(result.stderr).toContain('unknown option: --force')
  })
})
