import { afterEach, describe, expect, it, vi } from 'vitest'
import { createLogger, debugMatcher } from './index.ts'

describe('debugMatcher', () => {
  it('supports wildcards and exclusions', () => {
    const enabled = debugMatcher('ork:*,-ork:rpc')
    expect(enabled('ork:worker')).toBe(true)
    expect(enabled('ork:rpc')).toBe(false)
    expect(enabled('other')).toBe(false)
  })

  it('lets * span nested namespaces, and matches a plain name exactly', () => {
    expect(debugMatcher('ork:*')('ork:worker:jobs')).toBe(true)
    expect(debugMatcher('*')('anything:at:all')).toBe(true)
    const exact = debugMatcher('ork:worker')
    expect(exact('ork:worker')).toBe(true)
    expect(exact('ork:worker:jobs')).toBe(false)
    expect(exact('ork:workers')).toBe(false)
  })

  it('takes patterns separated by commas or whitespace, as DEBUG does', () => {
    const enabled = debugMatcher('ork:a ork:b,\tork:c  -ork:c')
    expect(['ork:a', 'ork:b', 'ork:c'].map(enabled)).toEqual([true, true, false])
  })
})

describe('createLogger', () => {
  it('writes JSON lines with namespace and fields, debug only when enabled', () => {
    const lines: string[] = []
    const logger = createLogger('ork:worker', { write: (line) => lines.push(line), debug: 'ork:worker:jobs' })
    logger.debug('hidden')
    logger.child('jobs').debug('shown', { day: 3 })
    logger.warn('rack failed', { rackId: 'r1', error: new Error('boom') })
    const parsed = lines.map((line) => JSON.parse(line))
    expect(parsed).toHaveLength(2)
    expect(parsed[0]).toMatchObject({ level: 'debug', ns: 'ork:worker:jobs', msg: 'shown', day: 3 })
    expect(parsed[1]).toMatchObject({ level: 'warn', ns: 'ork:worker', rackId: 'r1' })
    expect(parsed[1].error).toEqual({ message: 'boom' })
  })

  it('respects the minimum level', () => {
    const lines: string[] = []
    const logger = createLogger('ork', { write: (line) => lines.push(line), level: 'error', debug: '' })
    logger.info('no')
    logger.error('yes')
    expect(lines).toHaveLength(1)
  })
})

describe('createLogger defaults and line shape', () => {
  afterEach(() => {
    vi.unstubAllEnvs()
  })
  const collect = (namespace: string, options: Parameters<typeof createLogger>[1] = {}) => {
    const lines: string[] = []
    return { lines, logger: createLogger(namespace, { write: (line) => lines.push(line), ...options }) }
  }

  it('prints info and above by default, debug only for enabled namespaces', () => {
    vi.stubEnv('ORK_LOG_LEVEL', undefined)
    vi.stubEnv('DEBUG', undefined)
    const { lines, logger } = collect('ork')
    logger.debug('d')
    logger.info('i')
    logger.warn('w')
    expect(lines.map((line) => JSON.parse(line).msg)).toEqual(['i', 'w'])
  })

  it('reads ORK_LOG_LEVEL and DEBUG from the environment, ignoring an unknown level', () => {
    vi.stubEnv('ORK_LOG_LEVEL', 'warn')
    vi.stubEnv('DEBUG', 'ork:*')
    const quiet = collect('ork:worker')
    quiet.logger.info('hidden')
    quiet.logger.debug('shown by DEBUG')
    quiet.logger.warn('shown')
    expect(quiet.lines.map((line) => JSON.parse(line).msg)).toEqual(['shown by DEBUG', 'shown'])
    vi.stubEnv('ORK_LOG_LEVEL', 'verbose')
    const fallback = collect('other')
    fallback.logger.info('info')
    fallback.logger.debug('debug')
    expect(fallback.lines.map((line) => JSON.parse(line).msg)).toEqual(['info'])
  })

  it('writes one JSON object per line: time, level, ns, msg, then the fields', () => {
    const { lines, logger } = collect('ork', { level: 'info', debug: '' })
    logger.info('started', { port: 1 })
    const line = JSON.parse(lines[0] as string) as Record<string, unknown>
    expect(Object.keys(line)).toEqual(['time', 'level', 'ns', 'msg', 'port'])
    expect(new Date(line.time as string).toISOString()).toBe(line.time)
    expect(line).toMatchObject({ level: 'info', ns: 'ork', msg: 'started', port: 1 })
  })

  it("never lets a field replace the line's own keys: it is written with a leading underscore", () => {
    const { lines, logger } = collect('ork', { level: 'info', debug: '' })
    logger.warn('rack said', { level: 'debug', msg: 'from the rack', ns: 'x', time: 0 })
    expect(JSON.parse(lines[0] as string)).toMatchObject({
      level: 'warn',
      ns: 'ork',
      msg: 'rack said',
      _level: 'debug',
      _msg: 'from the rack',
      _ns: 'x',
      _time: 0,
    })
  })

  it("keeps an error field's code, and never throws on fields JSON cannot hold", () => {
    const { lines, logger } = collect('ork', { level: 'info', debug: '' })
    logger.error('failed', { error: Object.assign(new Error('boom'), { code: 'ERR_X', details: { reason: 'why' } }) })
    const circular: Record<string, unknown> = {}
    circular.self = circular
    expect(() => logger.warn('odd', { circular, big: 10n })).not.toThrow()
    const parsed = lines.map((line) => JSON.parse(line))
    expect(parsed[0].error).toEqual({ message: 'boom', code: 'ERR_X', details: { reason: 'why' } })
    expect(parsed[1]).toMatchObject({ level: 'warn', msg: 'odd', fields: '[unserializable]' })
  })
})
