import { describe, expect, it } from 'vitest'
import { isOrkError, OrkError, storeWriteError, writeStoreBatch } from './index.ts'

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

describe('storeWriteError', () => {
  it("codes a write RocksDB refused, with the file system's code and reason from the cause", () => {
    // what rocksdb-native rejects a write with when the WAL cannot grow (ulimit -f, full disk)
    const cause = Object.assign(new Error('While appending to file: db/000004.log: File too large'), { code: 'EIO' })
    const refused = new Error('Batch was not applied', { cause })
    const error = storeWriteError(refused)
    expect(error).toBeInstanceOf(OrkError)
    expect(error?.message).toBe('ERR_STORE_WRITE_FAILED')
    expect(error?.details).toEqual({ code: 'EIO', reason: 'While appending to file: db/000004.log: File too large' })
    expect(error?.cause).toBe(refused)
  })

  it('codes a node fs error, and passes an ERR_STORE_WRITE_FAILED through as it is', () => {
    const full = Object.assign(new Error('ENOSPC: no space left on device, write'), { code: 'ENOSPC' })
    const error = storeWriteError(full) as OrkError
    expect(error.details).toEqual({ code: 'ENOSPC', reason: 'ENOSPC: no space left on device, write' })
    expect(storeWriteError(error)).toBe(error)
  })

  it('leaves other errors alone: other OrkErrors, library codes, plain values', () => {
    expect(storeWriteError(new OrkError('ERR_ACTION_TOO_LARGE'))).toBeUndefined()
    expect(storeWriteError(Object.assign(new Error('session closed'), { code: 'SESSION_CLOSED' }))).toBeUndefined()
    expect(storeWriteError(new Error('Batch was not applied'))).toBeUndefined()
    expect(storeWriteError('ENOSPC')).toBeUndefined()
    expect(storeWriteError(null)).toBeUndefined()
  })
})

describe('writeStoreBatch', () => {
  /** A batch that records what happened to it; `flushError` makes its flush fail. */
  const batchOf = (flushError?: Error) => {
    const events: string[] = []
    const batch = {
      put: async (key: string) => void events.push(`put ${key}`),
      flush: async () => {
        if (flushError) throw flushError
        events.push('flush')
      },
      close: async () => void events.push('close'),
    }
    return { batch, events }
  }

  it('fills the batch, then flushes it', async () => {
    const { batch, events } = batchOf()
    await writeStoreBatch(batch, (filled) => filled.put('a'))
    expect(events).toEqual(['put a', 'flush'])
  })

  it('closes a batch the file system refused, codes the error and reports it first', async () => {
    const refused = new Error('Batch was not applied', {
      cause: Object.assign(new Error('no space'), { code: 'ENOSPC' }),
    })
    const { batch, events } = batchOf(refused)
    const reported: unknown[] = []
    const failure = await writeStoreBatch(
      batch,
      (filled) => filled.put('a'),
      (error) => reported.push(error),
    ).catch((error: unknown) => error)
    expect(isOrkError(failure, 'ERR_STORE_WRITE_FAILED')).toBe(true)
    expect((failure as OrkError).details).toEqual({ code: 'ENOSPC', reason: 'no space' })
    expect(reported).toEqual([failure])
    expect(events).toEqual(['put a', 'close'])
  })

  it('passes any other failure of the fill or the flush on as it is, the batch closed', async () => {
    const broken = new Error('not a file system error')
    const { batch, events } = batchOf()
    await expect(writeStoreBatch(batch, () => Promise.reject(broken))).rejects.toBe(broken)
    expect(events).toEqual(['close'])
  })
})
