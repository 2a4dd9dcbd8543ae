import type { ApiDocument, ApiMethod, JsonSchema } from './api-document.ts'

/** A short human reading of a JSON Schema node: `string`, `integer ≥ 0`, `array of object`… */
export function describeSchema(schema: JsonSchema | undefined, depth = 0): string {
  if (!schema || Object.keys(schema).filter((key) => key !== 'x-error' && key !== 'description').length === 0) {
    return 'any JSON'
  }
  if ('const' in schema) return `\`${JSON.stringify(schema.const)}\``
  if (Array.isArray(schema.enum)) return schema.enum.map((value) => `\`${JSON.stringify(value)}\``).join(' \\| ')
  const alternatives = (schema.anyOf ?? schema.oneOf) as JsonSchema[] | undefined
  if (Array.isArray(alternatives)) return alternatives.map((option) => describeSchema(option, depth)).join(' \\| ')
  const type = schema.type
  if (Array.isArray(type)) return type.join(' \\| ')
  switch (type) {
    case 'string': {
      const notes: string[] = []
      if (typeof schema.minLength === 'number' && schema.minLength > 0) notes.push('non-empty')
      if (typeof schema.pattern === 'string') notes.push(`\`${schema.pattern}\``)
      return notes.length > 0 ? `string (${notes.join(', ')})` : 'string'
    }
    case 'integer':
    case 'number': {
      const minimum = typeof schema.minimum === 'number' ? ` ≥ ${schema.minimum}` : ''
      return `${type}${minimum}`
    }
    case 'array':
      return depth > 2 ? 'array' : `array of ${describeSchema(schema.items as JsonSchema | undefined, depth + 1)}`
    case 'object': {
      const properties = schema.properties as Record<string, JsonSchema> | undefined
      if (!properties || depth > 1) return schema.minProperties === 1 ? 'object with at least one field' : 'object'
      const required = new Set((schema.required as string[] | undefined) ?? [])
      const fields = Object.entries(properties).map(
        ([name, property]) => `${name}${required.has(name) ? '' : '?'}: ${describeSchema(property, depth + 1)}`,
      )
      return `object { ${fields.join(', ')} }`
    }
    default:
      return typeof type === 'string' ? type : 'any JSON'
  }
}

function requestTable(params: JsonSchema): string[] {
  const properties = params.properties as Record<string, JsonSchema> | undefined
  if (params.type !== 'object' || !properties || Object.keys(properties).length === 0) {
    return [`Request: ${describeSchema(params)}${params['x-error'] ? ` (else \`${params['x-error']}\`)` : ''}.`]
  }
  const required = new Set((params.required as string[] | undefined) ?? [])
  const lines = [
    `Request: a JSON object${params['x-error'] ? ` (else \`${params['x-error']}\`)` : ''}.`,
    '',
    '| field | type | required | invalid → |',
    '|---|---|---|---|',
  ]
  for (const [name, property] of Object.entries(properties)) {
    const code = property['x-error'] ?? (property.anyOf as JsonSchema[] | undefined)?.[0]?.['x-error']
    lines.push(
      `| \`${name}\` | ${describeSchema(property)} | ${required.has(name) ? 'yes' : 'no'} | ${code ? `\`${code}\`` : ''} |`,
    )
  }
  if (params.additionalProperties !== false) {
    lines.push('', 'Other fields are accepted; a method that asks racks passes them on as sent.')
  }
  return lines
}

function renderMethod(name: string, method: ApiMethod): string[] {
  const access = method.op === 'r' ? 'read (open to read-only peers)' : 'write (refused to read-only peers)'
  const lines = [`### ${name}`, '', `\`${method.op}\` — ${access}${method.encoding === 'raw' ? ', raw bytes' : ''}.`]
  if (method.summary) lines.push('', method.summary)
  lines.push('')
  if (method.encoding === 'raw') {
    lines.push('Request: any bytes. Reply: the same bytes.')
  } else {
    lines.push(...requestTable(method.params), '', `Reply: ${describeSchema(method.result)}.`)
  }
  if (method.errors.length > 0) {
    lines.push('', `Errors: ${method.errors.map((code) => `\`${code}\``).join(', ')}.`)
  }
  if (method.encoding === 'json') {
    lines.push(
      '',
      '<details><summary>JSON Schema</summary>',
      '',
      '```json',
      JSON.stringify({ params: method.params, result: method.result }, null, 2),
      '```',
      '',
      '</details>',
    )
  }
  lines.push('')
  return lines
}

/** Renders docs/api.md from the API document. */
export function renderApiMarkdown(document: ApiDocument): string {
  const names = Object.keys(document.methods)
  const lines = [
    '# ork RPC API reference',
    '',
    '<!-- Generated from the zod schemas by `pnpm api-docs`; do not edit. -->',
    '',
    `${document.description}`,
    '',
    'Every request and reply is JSON (except `ping` and `echo`). An application error comes back as',
    'the reply string `"[HRPC_ERR]=<code>"`; validation answers the code of the first failing',
    'field, in the order of the tables below. Besides the codes listed per method, any method can',
    'answer `ERR_FACS_NET_DATA_FORMAT` (a request that is not JSON) and `ERR_ORK_CLOSING` (the ork is',
    "shutting down), and a `w` method `ERR_STORE_WRITE_FAILED` (the ork's store refuses writes, e.g.",
    'its disk is full); a read-only peer calling a `w` method gets the transport error',
    '`ERR_MISSING_WRITE_PERMISSIONS`, and an unknown method the transport error `UNKNOWN_METHOD`.',
    '',
    `The same content as JSON Schema (${document.jsonSchemaDialect}): \`packages/ork-rpc/src/ork-methods.json\`,`,
    'which `ork-rpc` validates payloads against before sending them.',
    '',
    '## Methods',
    '',
    '| method | op | summary |',
    '|---|---|---|',
    ...names.map((name) => {
      const method = document.methods[name] as ApiMethod
      return `| [\`${name}\`](#${name.toLowerCase()}) | ${method.op} | ${method.summary.replaceAll('|', '\\|')} |`
    }),
    '',
    ...names.flatMap((name) => renderMethod(name, document.methods[name] as ApiMethod)),
  ]
  return `${lines.join('\n').trimEnd()}\n`
}
