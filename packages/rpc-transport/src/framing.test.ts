import { isOrkError } from '@ork/errors'
import { describe, expect, it } from 'vitest'
import { ErrorCodes, isRetryable, RemoteError, TransportError, toTransportError } from './errors.ts'
import { allowedPeers, buildFirewall } from './firewall.ts'
import { errorReply, handleInputError, parseInputJSON, toOutJSON, unusableReplyReason } from './framing.ts'

describe('JSON framing', () => {
  it('encodes like Buffer.from(JSON.stringify(value)), TypeError included', () => {
    expect(toOutJSON({ a: 1 }).toString()).toBe('{"a":1}')
    expect(() => toOutJSON(undefined)).toThrow(TypeError)
    expect(errorReply('ERR_X').toString()).toBe('"[HRPC_ERR]=ERR_X"')
  })

  it('parses JSON and reports anything else as ERR_FACS_NET_DATA_FORMAT', () => {
    expect(parseInputJSON(Buffer.from('[1,2]'))).toEqual([1, 2])
    for (const bad of [Buffer.from('{'), null, Buffer.alloc(0), '']) {
      let caught: unknown
      try {
        parseInputJSON(bad)
      } catch (error) {
        caught = error
      }
      expect(isOrkError(caught, ErrorCodes.DATA_FORMAT)).toBe(true)
    }
  })

  it('finds replies JavaScript cannot use: nested too deep, or an object with its own toString', () => {
    const TOO_DEEP = (levels: number) => `reply nested deeper than ${levels} levels`
    const TO_STRING = 'reply holds an object with its own "toString" key'
    for (const scalar of [1, 'x', null, true]) expect(unusableReplyReason(scalar, 0)).toBeNull()
    expect(unusableReplyReason([], 0)).toBe(TOO_DEEP(0))
    expect(unusableReplyReason([], 1)).toBeNull()
    expect(unusableReplyReason({ a: 1, b: 'x', c: null }, 1)).toBeNull()
    // The deep branch comes last, after shallow siblings, in an array and in an object.
    expect(unusableReplyReason([1, {}, [[]]], 2)).toBe(TOO_DEEP(2))
    expect(unusableReplyReason([1, {}, [[]]], 3)).toBeNull()
    expect(unusableReplyReason({ a: 1, b: { c: [] } }, 2)).toBe(TOO_DEEP(2))
    expect(unusableReplyReason({ a: 1, b: { c: [] } }, 3)).toBeNull()
    expect(unusableReplyReason(JSON.parse(`${'['.repeat(20_000)}${']'.repeat(20_000)}`), 512)).toBe(TOO_DEEP(512))
    // `String(x)` throws for such an object; `valueOf`, `constructor` and `__proto__` keys are harmless.
    const ownToString = JSON.parse('{"toString": 1}')
    expect(() => String(ownToString)).toThrow(TypeError)
    for (const reply of [ownToString, [1, { a: [ownToString] }], { a: 1, b: { c: ownToString } }]) {
      expect(unusableReplyReason(reply, 512)).toBe(TO_STRING)
    }
    expect(unusableReplyReason(JSON.parse('[{"__proto__": {"toString": 1}}]'), 512)).toBe(TO_STRING)
    const harmless = JSON.parse('[{"valueOf": 1, "constructor": {}, "__proto__": null, "a": "toString"}]')
    expect(unusableReplyReason(harmless, 512)).toBeNull()
    expect(String(harmless[0])).toBe('[object Object]')
  })

  it('treats a string with the marker in its first 15 characters as a remote error', () => {
    expect(() => handleInputError('[HRPC_ERR]=ERR_A')).toThrow(new RemoteError('[HRPC_ERR]=ERR_A'))
    expect(() => handleInputError('abcd[HRPC_ERR]=ERR_A')).toThrow('abcd[HRPC_ERR]=ERR_A')
    expect(() => handleInputError('abcdef[HRPC_ERR]=ERR_A')).not.toThrow()
    expect(() => handleInputError({ message: '[HRPC_ERR]=x' })).not.toThrow()
    const nested = new RemoteError('[HRPC_ERR]=[HRPC_ERR]=ERR_THING_NOTFOUND')
    expect(nested.remoteMessage).toBe('[HRPC_ERR]=ERR_THING_NOTFOUND')
  })
})

describe('firewall', () => {
  const key = Buffer.alloc(32, 0xab)
  it('admits everyone without a list, no one with an empty list, listed keys otherwise', () => {
    expect(buildFirewall(null)(key)).toBe(false)
    expect(buildFirewall([])(key)).toBe(true)
    expect(buildFirewall(['AB'.repeat(32)])(key)).toBe(false)
    expect(buildFirewall([key])(key)).toBe(false)
    expect(buildFirewall(['cd'.repeat(32)])(key)).toBe(true)
    // decoded as the reference decodes them: hex up to the first other character
    expect(buildFirewall([`${'ab'.repeat(32)} `])(key)).toBe(false)
    expect(buildFirewall([`${'ab'.repeat(32)}\n`])(key)).toBe(false)
  })

  it('builds the allow list as the reference: allow ∪ allowReadOnly when either is present', () => {
    expect(allowedPeers(undefined, undefined)).toBeNull()
    expect(allowedPeers([], undefined)).toEqual([])
    expect(allowedPeers(['a'], ['b'])).toEqual(['a', 'b'])
    expect(allowedPeers(undefined, ['b'])).toEqual(['b'])
  })
})

describe('transport errors', () => {
  it('keeps the code and message of protomux-rpc errors, and the remote cause', () => {
    const cause = new Error('ERR_MISSING_WRITE_PERMISSIONS')
    const rpcError = Object.assign(new Error('REQUEST_ERROR: Request failed', { cause }), { code: 'REQUEST_ERROR' })
    const wrapped = toTransportError(rpcError) as TransportError
    expect(wrapped).toBeInstanceOf(TransportError)
    expect(wrapped.code).toBe('REQUEST_ERROR')
    expect(wrapped.message).toBe('REQUEST_ERROR: Request failed')
    expect(wrapped.causeMessage).toBe('ERR_MISSING_WRITE_PERMISSIONS')
    expect((toTransportError(new Error('RPC client closed')) as TransportError).code).toBe('CLIENT_CLOSED')
    const other = new Error('something else')
    expect(toTransportError(other)).toBe(other)
  })

  it('retries only on CHANNEL_CLOSED and on messages containing "RPC client closed"', () => {
    expect(isRetryable(Object.assign(new Error('CHANNEL_CLOSED: channel closed'), { code: 'CHANNEL_CLOSED' }))).toBe(
      true,
    )
    expect(isRetryable(new RemoteError('[HRPC_ERR]=RPC client closed'))).toBe(true)
    expect(isRetryable(Object.assign(new Error('TIMEOUT_EXCEEDED: x'), { code: 'TIMEOUT_EXCEEDED' }))).toBe(false)
    expect(isRetryable('CHANNEL_CLOSED')).toBe(false)
  })
})
