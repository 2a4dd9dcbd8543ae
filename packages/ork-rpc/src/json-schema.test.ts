import { describe, expect, it } from 'vitest'
import { findSchemaViolation } from './json-schema.ts'
import { ORK_API, orkMethod, similarMethodNames, validateOrkRequest } from './ork-methods.ts'

const method = (name: string) => {
  const found = orkMethod(name)
  if (!found) throw new Error(`${name} is not in the API reference`)
  return found
}

describe('validateOrkRequest against the generated reference', () => {
  it('accepts what the ork accepts', () => {
    expect(validateOrkRequest(method('listRacks'), {})).toBeNull()
    expect(validateOrkRequest(method('listRacks'), { type: null, keys: 1, extra: true })).toBeNull()
    expect(
      validateOrkRequest(method('listThings'), { query: { id: { $in: ['a'] } }, sort: { code: 1 }, limit: 0 }),
    ).toBeNull()
    expect(
      validateOrkRequest(method('registerRack'), { id: 'r', type: 'miner', info: { rpcPublicKey: 'Ab'.repeat(32) } }),
    ).toBeNull()
    expect(validateOrkRequest(method('saveWrkSettings'), { rackId: 'r', entries: [] })).toBeNull()
  })

  it('finds the first violation in the order the ork checks, with its code', () => {
    expect(validateOrkRequest(method('registerRack'), null)).toMatchObject({ path: '', code: 'ERR_RACK_ID_INVALID' })
    expect(validateOrkRequest(method('registerRack'), {})).toEqual({
      path: '/id',
      message: 'is required',
      code: 'ERR_RACK_ID_INVALID',
    })
    expect(validateOrkRequest(method('registerRack'), { id: 'x', type: '' })).toMatchObject({
      path: '/type',
      code: 'ERR_RACK_TYPE_INVALID',
    })
    expect(validateOrkRequest(method('registerRack'), { id: 'x', type: 'm', info: { rpcPublicKey: 'zz' } })).toEqual({
      path: '/info/rpcPublicKey',
      message: 'expected a string matching ^[0-9a-fA-F]{64}$',
      code: 'ERR_RACK_INFO_RPC_PUBKEY_INVALID',
    })
    expect(validateOrkRequest(method('listThings'), { limit: -1 })).toEqual({
      path: '/limit',
      message: 'expected ≥ 0',
      code: 'ERR_LIMIT_INVALID',
    })
    // 1e400 parses to Infinity, which would travel as null
    expect(validateOrkRequest(method('listThings'), JSON.parse('{"limit":1e400}'))).toMatchObject({
      path: '/limit',
      message: 'expected a finite number',
      code: 'ERR_LIMIT_INVALID',
    })
    expect(validateOrkRequest(method('listThings'), { offset: 1.5, limit: 'x' })).toMatchObject({
      path: '/offset',
      message: 'expected integer or null, got number',
      code: 'ERR_OFFSET_INVALID',
    })
    expect(validateOrkRequest(method('forgetRacks'), { ids: ['a', 2] })).toMatchObject({
      path: '/ids/1',
      code: 'ERR_IDS_INVALID',
    })
    expect(validateOrkRequest(method('saveWrkSettings'), { rackId: 'r', entries: 'x' })).toMatchObject({
      path: '/entries',
      code: 'ERR_ENTRIES_INVALID',
    })
  })

  it('lists the base methods and suggests close names', () => {
    expect(Object.keys(ORK_API.methods).slice(0, 3)).toEqual(['ping', 'echo', 'getInstanceId'])
    expect(orkMethod('toString')).toBeUndefined()
    expect(similarMethodNames('listrack')).toContain('listRacks')
    expect(similarMethodNames('nothingLikeAnyMethodAtAll')).toEqual([])
    // two edits away is still close
    expect(similarMethodNames('listRak')).toContain('listRacks')
  })
})

describe('findSchemaViolation keywords', () => {
  it('checks const, enum, bounds, items, additionalProperties, allOf, oneOf', () => {
    expect(findSchemaViolation({ const: 1 }, 2)?.message).toBe('expected 1')
    expect(findSchemaViolation({ enum: ['a', 'b'] }, 'c')?.message).toBe('expected one of "a", "b"')
    expect(findSchemaViolation({ type: 'number', maximum: 3 }, 4)?.message).toBe('expected ≤ 3')
    expect(findSchemaViolation({ type: 'number', exclusiveMinimum: 0 }, 0)?.message).toBe('expected > 0')
    expect(findSchemaViolation({ type: 'string', maxLength: 2 }, 'abc')?.message).toBe('expected at most 2 characters')
    expect(findSchemaViolation({ type: 'array', minItems: 1 }, [])?.message).toBe('expected at least 1 items')
    expect(findSchemaViolation({ type: 'object', additionalProperties: false }, { a: 1 })).toMatchObject({
      path: '/a',
      message: 'is not allowed here',
    })
    expect(findSchemaViolation({ allOf: [{ type: 'number' }, { minimum: 5 }] }, 4)?.message).toBe('expected ≥ 5')
    expect(findSchemaViolation({ oneOf: [{ type: 'number' }, { type: 'integer' }] }, 4)?.message).toBe(
      'matches more than one alternative',
    )
    expect(findSchemaViolation({ type: 'number', exclusiveMaximum: 3 }, 3)?.message).toBe('expected < 3')
    expect(findSchemaViolation({ type: 'number', exclusiveMaximum: 3 }, 2.9)).toBeNull()
    expect(findSchemaViolation({ type: 'array', maxItems: 2 }, [1, 2])).toBeNull()
    expect(findSchemaViolation({ type: 'array', maxItems: 2 }, [1, 2, 3])?.message).toBe('expected at most 2 items')
    // a required field the schema does not describe
    expect(findSchemaViolation({ type: 'object', required: ['a'] }, {})).toEqual({
      path: '/a',
      message: 'is required',
      code: undefined,
    })
    expect(findSchemaViolation({ type: 'number' }, 4.5)).toBeNull()
    expect(findSchemaViolation({ type: ['string', 'null'] }, null)).toBeNull()
    expect(
      findSchemaViolation({ type: 'object', properties: { 'a/b': { type: 'string' } } }, { 'a/b': 1 }),
    ).toMatchObject({ path: '/a~1b' })
  })
})
