import { describe, expect, it } from 'vitest'
import { z } from 'zod'
import { defineMethod, MAX_PAYLOAD_DEPTH, parseRequest } from './method.ts'

const method = defineMethod({
  name: 'probe',
  op: 'r',
  invalidCode: 'ERR_PROBE_INVALID',
  request: z.record(z.string(), z.unknown()),
  handle: (request) => request,
})

/** `levels` objects, each the only value of the one above. */
function nested(levels: number): Record<string, unknown> {
  let value: Record<string, unknown> = {}
  for (let level = 1; level < levels; level++) value = { a: value }
  return value
}

const codeOf = (payload: unknown) => {
  try {
    parseRequest(method, payload)
    return 'accepted'
  } catch (error) {
    return (error as Error).message
  }
}

describe('parseRequest', () => {
  it('takes payloads nested up to MAX_PAYLOAD_DEPTH objects deep and refuses deeper ones', () => {
    expect(codeOf(nested(MAX_PAYLOAD_DEPTH))).toBe('accepted')
    expect(codeOf(nested(MAX_PAYLOAD_DEPTH + 1))).toBe('ERR_PROBE_INVALID')
  })

  it('refuses a __proto__ key at any level with the method code', () => {
    expect(codeOf(JSON.parse('{"__proto__":{}}'))).toBe('ERR_PROBE_INVALID')
    expect(codeOf(JSON.parse('{"a":[{"b":{"__proto__":1}}]}'))).toBe('ERR_PROBE_INVALID')
    expect(codeOf(JSON.parse('{"a":[{"b":{"proto":1}}]}'))).toBe('accepted')
  })
})
