import { describe, expect, it } from 'vitest'
import { hasPermission, hasReadPermission, hasReadWritePermission, hasWritePermission } from '../src/index.ts'

describe('hasPermission (reference tests/unit/permissions.test.js)', () => {
  it('checks read, write and read-write levels', () => {
    expect(hasPermission(['miner:rw', 'container:r'], 'miner:r')).toBe(true)
    expect(hasPermission(['miner:r', 'container:r'], 'miner:r')).toBe(true)
    expect(hasPermission(['miner:w', 'container:r'], 'miner:r')).toBe(false)
    expect(hasPermission(['miner:rw', 'container:r'], 'miner:w')).toBe(true)
    expect(hasPermission(['miner:w', 'container:r'], 'miner:w')).toBe(true)
    expect(hasPermission(['miner:r', 'container:r'], 'miner:w')).toBe(false)
    expect(hasPermission(['miner:rw', 'container:r'], 'miner:rw')).toBe(true)
    expect(hasPermission(['miner:r', 'container:r'], 'miner:rw')).toBe(false)
    expect(hasPermission(['miner:w', 'container:r'], 'miner:rw')).toBe(false)
  })

  it('has write, read and read-write shorthands', () => {
    expect(hasWritePermission(['miner:w'], 'miner')).toBe(true)
    expect(hasWritePermission(['miner:rw'], 'miner')).toBe(true)
    expect(hasWritePermission(['miner:r'], 'miner')).toBe(false)
    expect(hasWritePermission(['container:r'], 'miner')).toBe(false)
    expect(hasWritePermission([], 'miner')).toBe(false)
    expect(hasReadPermission(['miner:r'], 'miner')).toBe(true)
    expect(hasReadPermission(['miner:rw'], 'miner')).toBe(true)
    expect(hasReadPermission(['miner:w'], 'miner')).toBe(false)
    expect(hasReadPermission(['container:r'], 'miner')).toBe(false)
    expect(hasReadPermission([], 'miner')).toBe(false)
    expect(hasReadWritePermission(['miner:rw'], 'miner')).toBe(true)
    expect(hasReadWritePermission(['miner:r'], 'miner')).toBe(false)
    expect(hasReadWritePermission(['miner:w'], 'miner')).toBe(false)
    expect(hasReadWritePermission(['container:rw'], 'miner')).toBe(false)
    expect(hasReadWritePermission([], 'miner')).toBe(false)
  })

  it('keeps the reference matching details', () => {
    expect(hasPermission(['miner:wr'], 'miner:rw')).toBe(true)
    expect(hasPermission(['miner:r'], 'miner:')).toBe(true)
    expect(hasPermission(['miner'], 'miner')).toBe(true)
    expect(hasPermission(['miner:rw'], '')).toBe(false)
    expect(hasPermission(['miner:rw'], undefined)).toBe(false)
  })

  it('treats malformed permissions as non-matching instead of throwing (Q17)', () => {
    expect(hasPermission(['miner', 'container:r'], 'miner:w')).toBe(false)
    expect(hasPermission(['miner', 'miner:w'], 'miner:w')).toBe(true)
    expect(hasPermission(['miner:rw'], 'miner')).toBe(false)
    expect(hasPermission([null, 5, { a: 1 }, 'miner:w'], 'miner:w')).toBe(true)
    expect(hasPermission(undefined, 'miner:w')).toBe(false)
    expect(hasPermission('miner:w', 'miner:w')).toBe(false)
    expect(hasWritePermission(null, 'miner')).toBe(false)
    expect(hasPermission(['miner:rw'], 5)).toBe(false)
  })
})
