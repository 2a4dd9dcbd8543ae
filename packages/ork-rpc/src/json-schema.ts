/** A JSON Schema node (draft 2020-12), as emitted by zod's `toJSONSchema`. */
export type JsonSchema = { [keyword: string]: unknown }

/** Why a value does not match a schema. */
export interface SchemaViolation {
  /** JSON Pointer of the offending value (`''` for the root, `/info/rpcPublicKey`…). */
  path: string
  /** What was expected, in words. */
  message: string
  /** The `x-error` code the server answers for this node (nearest annotated node), if known. */
  code: string | undefined
}

type Json = unknown

function typeOf(value: Json): string {
  if (value === null) return 'null'
  if (Array.isArray(value)) return 'array'
  if (typeof value === 'number') return Number.isInteger(value) ? 'integer' : 'number'
  return typeof value
}

function matchesType(value: Json, type: string): boolean {
  const actual = typeOf(value)
  if (type === 'number') return actual === 'number' || actual === 'integer'
  return actual === type
}

const pointer = (path: string, key: string | number) =>
  `${path}/${String(key).replace(/~/g, '~0').replace(/\//g, '~1')}`

function isPlainObject(value: Json): value is Record<string, Json> {
  return typeOf(value) === 'object'
}

function deepEqual(left: Json, right: Json): boolean {
  if (left === right) return true
  if (typeof left !== 'object' || typeof right !== 'object' || left === null || right === null) return false
  if (Array.isArray(left) !== Array.isArray(right)) return false
  const leftKeys = Object.keys(left)
  if (leftKeys.length !== Object.keys(right).length) return false
  return leftKeys.every((key) => deepEqual((left as Record<string, Json>)[key], (right as Record<string, Json>)[key]))
}

/**
 * Checks a JSON value against the subset of JSON Schema that zod's `toJSONSchema` emits
 * for the ork's methods: `type`, `const`, `enum`, `properties`, `required`,
 * `additionalProperties`, `propertyNames`, `minProperties`, `items`, `minItems`/`maxItems`,
 * `minLength`/`maxLength`, `pattern`, `minimum`/`maximum`/`exclusiveMinimum`/
 * `exclusiveMaximum`, `anyOf`, `oneOf`, `allOf`. Other keywords are ignored (they only
 * make the check looser). Returns the first violation in the server's validation order
 * (object fields in declaration order), or `null`.
 */
export function findSchemaViolation(
  schema: JsonSchema,
  value: Json,
  path = '',
  inheritedCode?: string,
): SchemaViolation | null {
  const code = typeof schema['x-error'] === 'string' ? schema['x-error'] : inheritedCode
  const fail = (message: string, at = path, atCode = code): SchemaViolation => ({ path: at, message, code: atCode })

  // `1e400` parses to Infinity, which JSON.stringify sends as null: the server would never see the number.
  if (typeof value === 'number' && !Number.isFinite(value)) {
    return fail('expected a finite number', path, firstCode(schema) ?? code)
  }
  if (schema.type !== undefined) {
    const types = typesOf(schema)
    if (!types.some((type) => matchesType(value, type))) {
      return fail(`expected ${types.join(' or ')}, got ${typeOf(value)}`)
    }
  }
  if ('const' in schema && !deepEqual(value, schema.const)) return fail(`expected ${JSON.stringify(schema.const)}`)
  if (Array.isArray(schema.enum) && !schema.enum.some((option) => deepEqual(value, option))) {
    return fail(`expected one of ${schema.enum.map((option) => JSON.stringify(option)).join(', ')}`)
  }

  if (typeof value === 'string') {
    const length = [...value].length
    if (typeof schema.minLength === 'number' && length < schema.minLength) {
      return fail(
        schema.minLength === 1 ? 'expected a non-empty string' : `expected at least ${schema.minLength} characters`,
      )
    }
    if (typeof schema.maxLength === 'number' && length > schema.maxLength) {
      return fail(`expected at most ${schema.maxLength} characters`)
    }
    if (typeof schema.pattern === 'string' && !new RegExp(schema.pattern, 'u').test(value)) {
      return fail(`expected a string matching ${schema.pattern}`)
    }
  }

  if (typeof value === 'number') {
    if (typeof schema.minimum === 'number' && value < schema.minimum) return fail(`expected ≥ ${schema.minimum}`)
    if (typeof schema.maximum === 'number' && value > schema.maximum) return fail(`expected ≤ ${schema.maximum}`)
    if (typeof schema.exclusiveMinimum === 'number' && value <= schema.exclusiveMinimum) {
      return fail(`expected > ${schema.exclusiveMinimum}`)
    }
    if (typeof schema.exclusiveMaximum === 'number' && value >= schema.exclusiveMaximum) {
      return fail(`expected < ${schema.exclusiveMaximum}`)
    }
  }

  if (Array.isArray(value)) {
    if (typeof schema.minItems === 'number' && value.length < schema.minItems) {
      return fail(`expected at least ${schema.minItems} items`)
    }
    if (typeof schema.maxItems === 'number' && value.length > schema.maxItems) {
      return fail(`expected at most ${schema.maxItems} items`)
    }
    if (isPlainObject(schema.items)) {
      for (const [index, item] of value.entries()) {
        const violation = findSchemaViolation(schema.items, item, pointer(path, index), code)
        if (violation) return violation
      }
    }
  }

  if (isPlainObject(value)) {
    if (typeof schema.minProperties === 'number' && Object.keys(value).length < schema.minProperties) {
      return fail(`expected at least ${schema.minProperties} ${schema.minProperties === 1 ? 'field' : 'fields'}`)
    }
    const properties = isPlainObject(schema.properties) ? (schema.properties as Record<string, JsonSchema>) : {}
    const required = new Set(Array.isArray(schema.required) ? (schema.required as string[]) : [])
    for (const [name, propertySchema] of Object.entries(properties)) {
      const propertyCode = typeof propertySchema['x-error'] === 'string' ? propertySchema['x-error'] : code
      if (!Object.hasOwn(value, name)) {
        if (required.has(name))
          return fail('is required', pointer(path, name), firstCode(propertySchema) ?? propertyCode)
        continue
      }
      const violation = findSchemaViolation(propertySchema, value[name], pointer(path, name), code)
      if (violation) return violation
    }
    for (const name of required) {
      if (!(name in properties) && !Object.hasOwn(value, name)) return fail('is required', pointer(path, name))
    }
    for (const [name, member] of Object.entries(value)) {
      if (isPlainObject(schema.propertyNames)) {
        const violation = findSchemaViolation(schema.propertyNames, name, pointer(path, name), code)
        if (violation) return { ...violation, message: `key ${violation.message}` }
      }
      if (name in properties) continue
      if (schema.additionalProperties === false) return fail('is not allowed here', pointer(path, name))
      if (isPlainObject(schema.additionalProperties)) {
        const violation = findSchemaViolation(schema.additionalProperties, member, pointer(path, name), code)
        if (violation) return violation
      }
    }
  }

  if (Array.isArray(schema.allOf)) {
    for (const member of schema.allOf as JsonSchema[]) {
      const violation = findSchemaViolation(member, value, path, code)
      if (violation) return violation
    }
  }
  for (const keyword of ['anyOf', 'oneOf'] as const) {
    const options = schema[keyword]
    if (!Array.isArray(options)) continue
    const violations = (options as JsonSchema[]).map((option) => findSchemaViolation(option, value, path, code))
    const matching = violations.filter((violation) => violation === null).length
    if (matching === 0) {
      // The alternative of the value's own type says what is wrong with it (`limit: -1` against
      // `integer ≥ 0 | null`: "expected ≥ 0"); else the first one (`T | null` for optional fields).
      const ofItsType = (options as JsonSchema[]).flatMap((option, index) =>
        option.type !== undefined && typesOf(option).some((type) => matchesType(value, type)) ? [index] : [],
      )
      if (ofItsType.length === 1) return violations[ofItsType[0] as number] as SchemaViolation
      const first = violations[0] as SchemaViolation
      const expected = (options as JsonSchema[]).map(describeType).join(' or ')
      return first.path === path ? fail(`expected ${expected}, got ${typeOf(value)}`, path, first.code) : first
    }
    if (keyword === 'oneOf' && matching > 1) return fail('matches more than one alternative')
  }
  return null
}

function typesOf(schema: JsonSchema): string[] {
  return Array.isArray(schema.type) ? (schema.type as string[]) : [schema.type as string]
}

function describeType(schema: JsonSchema): string {
  if ('const' in schema) return JSON.stringify(schema.const)
  if (Array.isArray(schema.type)) return schema.type.join(' or ')
  if (typeof schema.type === 'string') return schema.type
  if (Array.isArray(schema.anyOf)) return (schema.anyOf as JsonSchema[]).map(describeType).join(' or ')
  return 'any JSON'
}

/** The code of a schema or, for `T | null`, of its first alternative. */
function firstCode(schema: JsonSchema): string | undefined {
  if (typeof schema['x-error'] === 'string') return schema['x-error']
  const options = (schema.anyOf ?? schema.oneOf) as JsonSchema[] | undefined
  return Array.isArray(options) && options[0] ? firstCode(options[0]) : undefined
}
