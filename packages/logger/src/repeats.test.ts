import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest'
import { createLogger } from './index.ts'
import { summarizeRepeats } from './repeats.ts'

const MINUTE = 60_000

function collect(everyMs = 10 * MINUTE, maxKeys?: number) {
  const lines: string[] = []
  const base = createLogger('ork', { write: (line) => lines.push(line), level: 'info', debug: '' })
  const logger = summarizeRepeats(base, { everyMs, ...(maxKeys === undefined ? {} : { maxKeys }) })
  const parsed = () => lines.map((line) => JSON.parse(line) as Record<string, unknown>)
  return { logger, parsed }
}

const failure = (rackId: string, code = 'CHANNEL_CLOSED') => ({
  method: 'listThings',
  rackId,
  error: Object.assign(new Error(`${code}: channel closed`), { code }),
})

describe('summarizeRepeats', () => {
  beforeEach(() => {
    vi.useFakeTimers({ now: Date.UTC(2026, 10, 1, 12) })
  })
  afterEach(() => {
    vi.useRealTimers()
  })

  it('writes a warning once, then its repeats as one summary per period, and forgets it once it stops', () => {
    const { logger, parsed } = collect()
    logger.warn('rack request failed', failure('r1'))
    for (let request = 0; request < 119; request++) {
      vi.advanceTimersByTime(5000)
      logger.warn('rack request failed', failure('r1'))
    }
    expect(parsed()).toHaveLength(1)
    // 120 failures within 10 minutes: the first line, then one summary when the period is over.
    vi.advanceTimersByTime(5000)
    expect(parsed()).toHaveLength(2)
    expect(parsed()[0]).not.toHaveProperty('repeated')
    expect(parsed()[1]).toMatchObject({
      level: 'warn',
      ns: 'ork',
      msg: 'rack request failed',
      rackId: 'r1',
      error: { code: 'CHANNEL_CLOSED' },
      repeated: 119,
      repeatedSince: '2026-11-01T12:00:05.000Z',
    })
    // The problem stops: nothing more; after a quiet period its next occurrence is written at once.
    vi.advanceTimersByTime(30 * MINUTE)
    expect(parsed()).toHaveLength(2)
    logger.warn('rack request failed', failure('r1'))
    expect(parsed()).toHaveLength(3)
    expect(parsed()[2]).not.toHaveProperty('repeated')
  })

  it('writes the count of repeats when the period ends, even if the problem stopped before', () => {
    const { logger, parsed } = collect()
    logger.error('ERR_CROSS_AGGR_ACTIONS_PUSH_ACTION', { tag: 'container-1' })
    vi.advanceTimersByTime(MINUTE)
    logger.error('ERR_CROSS_AGGR_ACTIONS_PUSH_ACTION', { tag: 'container-1' })
    logger.error('ERR_CROSS_AGGR_ACTIONS_PUSH_ACTION', { tag: 'container-1' })
    expect(parsed()).toHaveLength(1)
    vi.advanceTimersByTime(9 * MINUTE)
    expect(parsed()).toHaveLength(2)
    expect(parsed()[1]).toMatchObject({ level: 'error', repeated: 2, repeatedSince: '2026-11-01T12:01:00.000Z' })
  })

  it('keeps its periods when the system clock is set back', () => {
    const { logger, parsed } = collect()
    logger.warn('rack request failed', failure('r1'))
    logger.warn('rack request failed', failure('r1'))
    vi.setSystemTime(Date.now() - 60 * MINUTE)
    vi.advanceTimersByTime(10 * MINUTE)
    expect(parsed()).toHaveLength(2)
    expect(parsed()[1]).toMatchObject({ repeated: 1, repeatedSince: '2026-11-01T12:00:00.000Z' })
  })

  it('writes the first line of every rack, method and reason, and never holds back debug or info lines', () => {
    const { logger, parsed } = collect()
    logger.warn('rack request failed', failure('r1'))
    logger.warn('rack request failed', failure('r2'))
    logger.warn('rack request failed', failure('r1', 'TIMEOUT_EXCEEDED'))
    logger.warn('rack request failed', { ...failure('r1'), method: 'tailLog' })
    logger.child('fanout').warn('rack request failed', failure('r1'))
    logger.warn('rack request failed', failure('r1'))
    for (let repeat = 0; repeat < 3; repeat++) {
      logger.info('rack answers again', { rackId: 'r1' })
      logger.debug('probe', { rackId: 'r1' })
    }
    expect(parsed().map((line) => `${line.ns} ${line.msg} ${line.rackId}`)).toEqual([
      'ork rack request failed r1',
      'ork rack request failed r2',
      'ork rack request failed r1',
      'ork rack request failed r1',
      'ork:fanout rack request failed r1',
      'ork rack answers again r1',
      'ork rack answers again r1',
      'ork rack answers again r1',
    ])
  })

  it('writes what is pending on close, and every line after it', () => {
    const { logger, parsed } = collect()
    logger.warn('peer refused by firewall', { peer: 'aa' })
    logger.warn('peer refused by firewall', { peer: 'aa' })
    logger.close()
    logger.close()
    expect(parsed()).toHaveLength(2)
    expect(parsed()[1]).toMatchObject({ peer: 'aa', repeated: 1 })
    logger.warn('peer refused by firewall', { peer: 'aa' })
    expect(parsed()).toHaveLength(3)
    expect(vi.getTimerCount()).toBe(0)
  })

  it('writes new lines as they come once it follows maxKeys lines', () => {
    const { logger, parsed } = collect(10 * MINUTE, 2)
    for (const rackId of ['r1', 'r2', 'r3', 'r3']) logger.warn('rack request failed', failure(rackId))
    expect(parsed().map((line) => line.rackId)).toEqual(['r1', 'r2', 'r3', 'r3'])
  })
})
