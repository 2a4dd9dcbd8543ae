import { setTimeout as sleep } from 'node:timers/promises'
import { describe, expect, it, vi } from 'vitest'
import { startProgress } from './progress.ts'

const terminal = (isTTY: boolean) => {
  const writes: string[] = []
  return { writes, stream: { isTTY, write: (text: string) => writes.push(text) } }
}

describe('startProgress', () => {
  it('draws after the delay on a terminal and erases itself when stopped', async () => {
    const { writes, stream } = terminal(true)
    const stop = startProgress(stream, { label: 'listThings', delayMs: 20, intervalMs: 10 })
    await sleep(60)
    stop()
    expect(writes.length).toBeGreaterThan(1)
    const erase = '\x1b[K'
    expect(writes[0]?.endsWith(erase)).toBe(true)
    expect(writes[0]?.slice(0, -erase.length)).toMatch(/^\r. waiting for listThings… \d+\.\ds$/)
    expect(writes.at(-1)).toBe('\r\x1b[K')
    const count = writes.length
    await sleep(30)
    expect(writes).toHaveLength(count)
  })

  it('shows the time elapsed, whatever the wall clock does meanwhile', () => {
    vi.useFakeTimers({ toFake: ['Date', 'performance', 'setTimeout', 'setInterval', 'clearTimeout', 'clearInterval'] })
    try {
      const { writes, stream } = terminal(true)
      const stop = startProgress(stream, { label: 'listThings', delayMs: 1000, intervalMs: 100 })
      vi.setSystemTime(Date.now() - 3_600_000)
      vi.advanceTimersByTime(1000)
      stop()
      expect(writes[0]).toContain('waiting for listThings… 1.0s')
    } finally {
      vi.useRealTimers()
    }
  })

  it('prints nothing for a quick call or when stderr is not a terminal', async () => {
    const quick = terminal(true)
    startProgress(quick.stream, { label: 'x', delayMs: 50 })()
    const piped = terminal(false)
    const stop = startProgress(piped.stream, { label: 'x', delayMs: 1 })
    await sleep(70)
    stop()
    expect(quick.writes).toEqual([])
    expect(piped.writes).toEqual([])
  })
})
