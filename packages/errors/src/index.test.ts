import { describe, expect, it } from 'vitest'
import { isOrkError, OrkError } from './index.ts'

describe('OrkError', () => {
  it('uses the code as its message so the wire text is the bare code', () => {
    const error = new OrkError('ERR_RACK_ID_INVALID', { id: 42 })
    expect(error.message).toBe('ERR_RACK_ID_INVALID')
    expect(error.code).toBe('ERR_RACK_ID_INVALID')
    expect(error.details).toEqual({ id: 42 })
    expect(error).toBeInstanceOf(Error)
  })

  it('names itself OrkError in traces and keeps the cause', () => {
    const cause = new Error('socket closed')
    const error = new OrkError('ERR_RACK_TIMEOUT', undefined, { cause })
    expect(String(error)).toBe('OrkError: ERR_RACK_TIMEOUT')
    expect(error.cause).toBe(cause)
    expect(new OrkError('ERR_X').details).toBeUndefined()
  })

  it('is recognised by isOrkError, with or without a code', () => {
    const error = new OrkError('ERR_X')
    expect(isOrkError(error)).toBe(true)
    expect(isOrkError(error, 'ERR_X')).toBe(true)
    expect(isOrkError(error, 'ERR_Y')).toBe(false)
    expect(isOrkError(new Error('ERR_X'))).toBe(false)
  })
})
