import { cpSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterEach, beforeEach, describe, expect, it } from 'vitest'
import { ConfigError, loadWorkerConfig } from './load-config.ts'

const repositoryConfig = join(import.meta.dirname, '..', '..', '..', '..', 'config')
let root: string

/** Lays out a service root whose config/ holds the shipped examples under their real names. */
function setupRoot(): string {
  const directory = mkdtempSync(join(tmpdir(), 'ork-config-'))
  cpSync(repositoryConfig, join(directory, 'config'), { recursive: true })
  for (const name of [
    'base.ork',
    'common',
    'global.config',
    'aggr.data',
    'aggr.stats',
    'aggr.crossthg',
    'cross.aggr.action',
  ]) {
    cpSync(join(directory, 'config', `${name}.json.example`), join(directory, 'config', `${name}.json`))
  }
  cpSync(join(directory, 'config/facs/net.config.json.example'), join(directory, 'config/facs/net.config.json'))
  return directory
}

beforeEach(() => {
  root = setupRoot()
})
afterEach(() => rmSync(root, { recursive: true, force: true }))

describe('loadWorkerConfig', () => {
  it('loads every shipped example and validates it', () => {
    const config = loadWorkerConfig(root, 'production')
    expect(config.ork.actionIntvlMs).toBe(5000)
    expect(config.net.allow).toEqual([])
    expect(Object.keys(config.aggrStats?.miner?.ops ?? {})).toHaveLength(72)
    expect(config.aggrData?.aggrTailLogKeys?.map((entry) => entry.type)).toEqual(['miner', 'powermeter', 'container'])
    expect(config.crossAggrAction?.action).toBe('setPowerMode')
    expect(config.globalConfig?.aggrTailLogTimezones).toEqual([{ code: 'UTC', offset: 0 }])
  })

  it('prefers config/<env>.<name>.json and selects the env sub-object', () => {
    writeFileSync(join(root, 'config/test.base.ork.json'), JSON.stringify({ test: { callTargetsLimit: 7 } }))
    expect(loadWorkerConfig(root, 'test').ork.callTargetsLimit).toBe(7)
    expect(loadWorkerConfig(root, 'production').ork.callTargetsLimit).toBe(500)
  })

  it('names the key inside the env sub-object the value came from', () => {
    writeFileSync(
      join(root, 'config/base.ork.json'),
      JSON.stringify({ development: { actionIntvlMs: 5 }, actionIntvlMs: 5000 }),
    )
    expect(() => loadWorkerConfig(root, 'development')).toThrow(
      /^config\/base\.ork\.json: development\.actionIntvlMs: /,
    )
    expect(loadWorkerConfig(root, 'production').ork.actionIntvlMs).toBe(5000)
  })

  it('refuses periods and delays longer than Node timers keep (they would fire every millisecond)', () => {
    const month = 30 * 86_400_000
    const cases: [string, Record<string, unknown>, RegExp][] = [
      ['base.ork.json', { actionIntvlMs: 1e12 }, /^config\/base\.ork\.json: actionIntvlMs: at most 2147483647 ms/],
      ['base.ork.json', { actionExecutionTimeoutMs: month }, /actionExecutionTimeoutMs: at most 2147483647 ms/],
      ['aggr.data.json', { agrrTailLogIntvlMs: month }, /^config\/aggr\.data\.json: agrrTailLogIntvlMs: at most/],
      ['aggr.data.json', { aggrTailLogApiDelay: month }, /aggrTailLogApiDelay: at most 2147483647 ms/],
    ]
    for (const [file, change, message] of cases) {
      const path = join(root, 'config', file)
      const shipped = readFileSync(path, 'utf8')
      writeFileSync(path, JSON.stringify({ ...JSON.parse(shipped), ...change }))
      expect(() => loadWorkerConfig(root, 'production'), file).toThrow(message)
      writeFileSync(path, shipped)
    }
    writeFileSync(join(root, 'config/base.ork.json'), JSON.stringify({ actionIntvlMs: 2_147_483_647 }))
    expect(loadWorkerConfig(root, 'production').ork.actionIntvlMs).toBe(2_147_483_647)
  })

  it('accepts 0 where the reference reads "value || default"', () => {
    writeFileSync(join(root, 'config/base.ork.json'), JSON.stringify({ actionIntvlMs: 0 }))
    writeFileSync(
      join(root, 'config/aggr.data.json'),
      JSON.stringify({
        agrrTailLogIntvlMs: 0,
        aggrTailLogStoreDays: 0,
        aggrTailLogApiDelay: 0,
        aggrTailLogKeys: [{ key: 'stat-5m', type: 'miner', tag: 't-miner', limit: 0 }],
      }),
    )
    const config = loadWorkerConfig(root, 'production')
    expect(config.ork.actionIntvlMs).toBe(0)
    expect(config.aggrData).toMatchObject({ agrrTailLogIntvlMs: 0, aggrTailLogStoreDays: 0 })
    // between 0 and the minimum is still refused
    writeFileSync(join(root, 'config/base.ork.json'), JSON.stringify({ actionIntvlMs: 50 }))
    expect(() => loadWorkerConfig(root, 'production')).toThrow(
      /^config\/base\.ork\.json: actionIntvlMs: at least 100 \(0 means the default\)/,
    )
  })

  it('checks bootstrap nodes at start, as host:port or {host, port}', () => {
    const withBootstrap = (bootstrap: unknown[]) =>
      writeFileSync(join(root, 'config/facs/net.config.json'), JSON.stringify({ r0: { dhtOpts: { bootstrap } } }))
    withBootstrap([
      '127.0.0.1:49737',
      'node1.example.org:49737',
      `${'ab'.repeat(32)}@10.0.0.1:1`,
      { host: 'h', port: 2 },
    ])
    expect(loadWorkerConfig(root, 'production').net.dhtOpts?.bootstrap).toHaveLength(4)
    for (const node of [
      'foo',
      '127.0.0.1',
      ':49737',
      'host:70000',
      'host:0',
      { host: 'h', port: '49737' },
      { port: 1 },
    ]) {
      withBootstrap([node])
      expect(() => loadWorkerConfig(root, 'production'), JSON.stringify(node)).toThrow(
        /^config\/facs\/net\.config\.json: r0\.dhtOpts\.bootstrap\.0: expected "host:port"/,
      )
    }
  })

  it('says a config path that cannot be read is unreadable, not missing', () => {
    rmSync(join(root, 'config/aggr.stats.json'))
    cpSync(join(root, 'config/facs'), join(root, 'config/aggr.stats.json'), { recursive: true })
    expect(() => loadWorkerConfig(root, 'production')).toThrow(/^config\/aggr\.stats\.json: is not a file$/)
    rmSync(join(root, 'config/aggr.stats.json'), { recursive: true })
    rmSync(join(root, 'config/facs'), { recursive: true })
    writeFileSync(join(root, 'config/facs'), 'a file where the directory should be')
    expect(() => loadWorkerConfig(root, 'production')).toThrow(
      /^config\/facs\/production\.net\.config\.json: cannot be read \(ENOTDIR/,
    )
  })

  it('treats optional files as absent', () => {
    rmSync(join(root, 'config/aggr.stats.json'))
    rmSync(join(root, 'config/cross.aggr.action.json'))
    const config = loadWorkerConfig(root, 'production')
    expect(config.aggrStats).toBeUndefined()
    expect(config.crossAggrAction).toBeUndefined()
  })

  it('names the file and the key of a wrong value', () => {
    writeFileSync(join(root, 'config/base.ork.json'), JSON.stringify({ actionIntvlMs: 'soon' }))
    expect(() => loadWorkerConfig(root, 'production')).toThrow(/^config\/base\.ork\.json: actionIntvlMs: /)
    writeFileSync(join(root, 'config/base.ork.json'), JSON.stringify({ actionIntvlMs: 50 }))
    expect(() => loadWorkerConfig(root, 'production')).toThrow(ConfigError)
  })

  it('refuses malformed optional configs, naming the file and the key', () => {
    const cases: [string, unknown, RegExp][] = [
      [
        'global.config.json',
        { aggrTailLogTimezones: [{ code: 'NY', timezone: 'America/Nowhere' }] },
        /^config\/global\.config\.json: aggrTailLogTimezones\.0\.timezone: unknown IANA time zone "America\/Nowhere"/,
      ],
      [
        'global.config.json',
        { aggrTailLogTimezones: [{ code: 'X', offset: '1h' }] },
        /^config\/global\.config\.json: aggrTailLogTimezones\.0\.offset: /,
      ],
      ['aggr.data.json', { aggrTailLogKeys: 'miner' }, /^config\/aggr\.data\.json: aggrTailLogKeys: /],
      ['aggr.stats.json', { miner: { ops: 5 } }, /^config\/aggr\.stats\.json: miner\.ops: /],
      [
        'aggr.stats.json',
        { miner: { ops: { hashrate: { op: 'bogus', src: 'hashrate_mhs' } } } },
        /^config\/aggr\.stats\.json: miner\.ops\.hashrate\.op: unknown op "bogus" \(known: sum, /,
      ],
      ['aggr.crossthg.json', { miner: 'all' }, /^config\/aggr\.crossthg\.json: miner: /],
    ]
    for (const [file, content, message] of cases) {
      const path = join(root, 'config', file)
      const shipped = readFileSync(path, 'utf8')
      writeFileSync(path, JSON.stringify(content))
      expect(() => loadWorkerConfig(root, 'production'), file).toThrow(message)
      writeFileSync(path, shipped)
    }
    writeFileSync(
      join(root, 'config/global.config.json'),
      JSON.stringify({ aggrTailLogTimezones: [{ code: 'NY', timezone: 'America/New_York' }] }),
    )
    expect(loadWorkerConfig(root, 'production').globalConfig?.aggrTailLogTimezones).toHaveLength(1)
  })

  it('reports a missing required file, a missing net section and broken JSON', () => {
    rmSync(join(root, 'config/base.ork.json'))
    expect(() => loadWorkerConfig(root, 'production')).toThrow(/config\/base\.ork\.json: required file is missing/)
    cpSync(join(root, 'config/base.ork.json.example'), join(root, 'config/base.ork.json'))
    writeFileSync(join(root, 'config/facs/net.config.json'), JSON.stringify({ r1: {} }))
    expect(() => loadWorkerConfig(root, 'production')).toThrow(/net\.config\.json: r0: section is missing/)
    writeFileSync(join(root, 'config/facs/net.config.json'), '{ nope')
    expect(() => loadWorkerConfig(root, 'production')).toThrow(/net\.config\.json: not valid JSON/)
    writeFileSync(join(root, 'config/facs/net.config.json'), JSON.stringify({ r0: { allow: ['zz'] } }))
    expect(() => loadWorkerConfig(root, 'production')).toThrow(
      /net\.config\.json: r0\.allow\.0: expected a 64-character hex/,
    )
  })
})
