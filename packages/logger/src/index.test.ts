import { describe, expect, it } from 'vitest'
import { createLogger, debugMatcher } from './index.ts'

describe('debugMatcher', () => {
  it('supports wildcards and exclusions', () => {
    const enabled = debugMatcher('ork:*,-ork:rpc')
    expect(enabled('ork:worker')).toBe(true)
    expect(enabled('ork:rpc')).toBe(false)
    expect(enabled('other')).toBe(false)
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
    expect(parsed[1]).toMatchObject({ level: 'warn', ns: 'ork:worker', rackId: 'r1', error: { message: 'boom' } })
  })

  it('respects the minimum level', () => {
    const lines: string[] = []
    const logger = createLogger('ork', { write: (line) => lines.push(line), level: 'error', debug: '' })
    logger.info('no')
    logger.error('yes')
    expect(lines).toHaveLength(1)
  })
})
