import { describe, expect, it } from 'vitest'
import { MAX_REGEX_LENGTH, regexProblem } from './regex-guard.ts'

describe('regexProblem', () => {
  it.each([
    '^AM-S19',
    'group-1',
    '\\d+$',
    '^miner-(am|wm)-',
    '^(ab)+$',
    '(a+)?',
    '[(+)]+',
    '[]+',
    'a{2,3}b*',
    '(?:abc)+',
    '(?<name>x)+',
    '\\(a+\\)+',
    '{a+}+',
    '-1715000000000$',
  ])('accepts %s', (pattern) => {
    expect(regexProblem(pattern)).toBeNull()
  })

  it.each([
    '(a+)+$',
    '^(.*?){12}!$',
    '(a?){30}a{30}',
    '((ab)*c)+',
    '((a+))+',
    '(?:\\d+\\.)+x',
    '(?<n>[a-z]+)*$',
    '(x+x+)+y',
    '(a{1,5}){2,}',
    '(?=(a+))+',
    '(a+){2}',
    '(a+[x)])+',
  ])('refuses %s', (pattern) => {
    expect(regexProblem(pattern)).toBe('regex repeats a group that contains a quantifier')
  })

  it('refuses patterns longer than the limit', () => {
    expect(regexProblem('a'.repeat(MAX_REGEX_LENGTH))).toBeNull()
    expect(regexProblem('a'.repeat(MAX_REGEX_LENGTH + 1))).toMatch(/longer than/)
  })

  it('refuses the shape that blocks the thread (each extra character doubles its time)', () => {
    const subject = `${'a'.repeat(24)}!`
    const time = (pattern: string) => {
      const started = performance.now()
      new RegExp(pattern).test(subject)
      return performance.now() - started
    }
    expect(regexProblem('^(a+)+$')).not.toBeNull()
    expect(time('^(a+)+$')).toBeGreaterThan(20)
    expect(regexProblem('^a+$')).toBeNull()
    expect(time('^a+$')).toBeLessThan(20)
  })
})
