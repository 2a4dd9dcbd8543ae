import fc from 'fast-check'
import { describe, expect, it } from 'vitest'
import { findSchemaViolation } from '../../../packages/ork-rpc/src/json-schema.ts'
import { buildApiDocument, inertContext } from '../src/api/api-document.ts'
import { orkMethods } from '../src/methods/index.ts'
import { parseRequest } from '../src/rpc/method.ts'

/**
 * ork-rpc validates payloads against the generated JSON Schemas; the ork against the zod
 * schemas. They must agree on what passes and on the code of what fails, or the CLI would
 * refuse good payloads or promise the wrong error.
 */
const document = buildApiDocument()
const definitions = orkMethods(inertContext())

/** Values shaped like each method's requests: its own field names with any JSON in them. */
function payloadFor(properties: string[]): fc.Arbitrary<unknown> {
  const field = fc.oneof(
    fc.constantFrom(...(properties.length > 0 ? properties : ['x'])),
    fc.string({ maxLength: 4 }).filter((key) => key !== '__proto__'),
  )
  const value = fc.oneof(
    fc.jsonValue({ maxDepth: 2 }),
    fc.constantFrom('ab'.repeat(32), '', 'miner', 0, -1, 1.5, 7, null, [], {}, ['a'], { $regex: '^m' }),
  )
  return fc.oneof(
    { weight: 5, arbitrary: fc.dictionary(field, value, { maxKeys: 5 }) },
    { weight: 1, arbitrary: fc.jsonValue({ maxDepth: 2 }) },
  )
}

describe('ork-rpc validation agrees with the ork', () => {
  for (const definition of definitions) {
    it(definition.name, () => {
      const method = document.methods[definition.name]
      if (!method) throw new Error(`${definition.name} is missing from the reference`)
      const properties = Object.keys((method.params.properties as Record<string, unknown> | undefined) ?? {})
      fc.assert(
        fc.property(payloadFor(properties), (payload) => {
          const sent = JSON.parse(JSON.stringify(payload)) as unknown
          let serverCode: string | null = null
          try {
            parseRequest(definition, sent)
          } catch (error) {
            serverCode = (error as { code: string }).code
          }
          const violation = findSchemaViolation(method.params, sent)
          // zod refinements have no JSON Schema form: setGlobalConfig refuses `{}` on the server only
          if (violation === null && serverCode === 'ERR_CONFIG_INVALID' && definition.name === 'setGlobalConfig') {
            return
          }
          expect(violation?.code ?? null, JSON.stringify(sent)).toBe(serverCode)
        }),
        { numRuns: 300, seed: 9 },
      )
    })
  }
})
