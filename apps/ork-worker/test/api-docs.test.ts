import { readFileSync } from 'node:fs'
import { describe, expect, it } from 'vitest'
import { buildApiDocument, inertContext } from '../src/api/api-document.ts'
import { describeSchema } from '../src/api/api-markdown.ts'
import { generateApiFiles, generatedFilePath } from '../src/api/api-outputs.ts'
import { orkMethods } from '../src/methods/index.ts'

const readCommitted = (path: string) => {
  try {
    return readFileSync(path, 'utf8')
  } catch {
    return '(missing)'
  }
}

describe('generated API reference', () => {
  for (const file of generateApiFiles()) {
    it(`${file.path} is up to date with the schemas (else run: pnpm api-docs)`, () => {
      const committed = readCommitted(generatedFilePath(file))
      if (file.path.endsWith('.json')) {
        // compared as data: a formatter may lay the JSON out differently
        expect(committed === '(missing)' ? committed : JSON.parse(committed)).toEqual(JSON.parse(file.content))
      } else {
        expect(committed).toBe(file.content)
      }
    })
  }

  it('documents every registered method, the base methods first', () => {
    const document = buildApiDocument()
    const names = Object.keys(document.methods)
    expect(names.slice(0, 3)).toEqual(['ping', 'echo', 'getInstanceId'])
    const registered = orkMethods(inertContext()).map((method) => method.name)
    expect(names.slice(3)).toEqual(registered)
    for (const name of registered) {
      const method = document.methods[name]
      expect(method?.errors.length, name).toBeGreaterThan(0)
      expect(method?.params.type, name).toBeDefined()
    }
  })

  it('carries each field its wire code, in validation order', () => {
    const { methods } = buildApiDocument()
    expect(methods.registerRack?.errors.slice(0, 3)).toEqual([
      'ERR_RACK_ID_INVALID',
      'ERR_RACK_TYPE_INVALID',
      'ERR_RACK_INFO_RPC_PUBKEY_INVALID',
    ])
    const properties = methods.registerRack?.params.properties as Record<string, Record<string, unknown>>
    expect(properties.id).toMatchObject({ type: 'string', minLength: 1, 'x-error': 'ERR_RACK_ID_INVALID' })
    expect(methods.listRacks?.result).toMatchObject({ type: 'array', items: { type: 'object' } })
    expect(methods.getGlobalConfig?.errors).toContain('ERR_GLOBAL_CONFIG_MISSING')
    expect(methods.getInstanceId?.result).toEqual({ type: 'string' })
  })

  it('describes schemas in short words', () => {
    expect(describeSchema({})).toBe('any JSON')
    expect(describeSchema({ anyOf: [{ type: 'integer', minimum: 0 }, { type: 'null' }] })).toBe('integer ≥ 0 \\| null')
    expect(describeSchema({ type: 'array', items: { type: 'string', minLength: 1 } })).toBe(
      'array of string (non-empty)',
    )
    expect(describeSchema({ type: 'object', properties: { id: { type: 'string' } }, required: ['id'] })).toBe(
      'object { id: string }',
    )
  })
})
