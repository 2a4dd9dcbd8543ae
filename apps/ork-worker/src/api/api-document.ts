import { z } from 'zod'
import type { OrkContext } from '../context.ts'
import { orkMethods } from '../methods/index.ts'
import type { MethodDefinition, MethodOp } from '../rpc/method.ts'

/** A JSON Schema object as `z.toJSONSchema` emits it (draft 2020-12), with `x-error` codes. */
export type JsonSchema = { [keyword: string]: unknown }

/** One method of the {@link ApiDocument}. */
export interface ApiMethod {
  /** `r`: open to read-only peers; `w`: refused to them. */
  op: MethodOp
  /** `json`: JSON request and reply; `raw`: bytes in, bytes out (ping, echo). */
  encoding: 'json' | 'raw'
  summary: string
  /** JSON Schema of the request. Each node's `x-error` is the code the ork answers when that node fails. */
  params: JsonSchema
  /** JSON Schema of the reply; `{}` is any JSON. */
  result: JsonSchema
  /** Every `ERR_*` code the method itself can answer, in validation order. */
  errors: string[]
}

/** The machine-readable API reference of the ork (docs/ork-methods.json, ork-rpc's copy). */
export interface ApiDocument {
  name: string
  description: string
  /** The JSON Schema dialect of every `params` and `result`. */
  jsonSchemaDialect: string
  methods: Record<string, ApiMethod>
}

const DIALECT = 'https://json-schema.org/draft/2020-12/schema'

/**
 * A stand-in for the context: method builders only close over it, so none of its members
 * is read while the schemas are collected. It answers every access with itself so that a
 * builder peeking at its config at build time still builds.
 */
export function inertContext(): OrkContext {
  const target = () => undefined
  const inert: unknown = new Proxy(target, {
    get: (_target, property) => (property === 'then' || typeof property === 'symbol' ? undefined : inert),
    apply: () => inert,
  })
  return inert as OrkContext
}

type ZodInternals = {
  _zod?: { def?: { error?: (issue: unknown) => unknown; checks?: { _zod?: { def?: { error?: unknown } } }[] } }
}

/** The custom message of a schema or of one of its checks, when it is a wire code. */
function errorCodesOf(schema: unknown): string[] {
  const def = (schema as ZodInternals)._zod?.def
  if (!def) return []
  const codes: string[] = []
  const add = (error: unknown) => {
    if (typeof error !== 'function') return
    const message = error({ code: 'custom', input: undefined, path: [] })
    if (typeof message === 'string' && /^ERR_[A-Z0-9_]+$/.test(message) && !codes.includes(message)) {
      codes.push(message)
    }
  }
  add(def.error)
  for (const check of def.checks ?? []) add(check._zod?.def?.error)
  return codes
}

/** The `x-error` codes of a JSON Schema, root first, then its members in order: the validation order. */
function codesInValidationOrder(schema: unknown, codes: string[] = []): string[] {
  if (Array.isArray(schema)) {
    for (const member of schema) codesInValidationOrder(member, codes)
  } else if (schema !== null && typeof schema === 'object') {
    const code = (schema as JsonSchema)['x-error']
    if (typeof code === 'string' && !codes.includes(code)) codes.push(code)
    for (const [keyword, value] of Object.entries(schema)) {
      if (keyword !== 'x-error') codesInValidationOrder(value, codes)
    }
  }
  return codes
}

/** The JSON Schema of a zod schema, each node annotated with the code its failures answer. */
export function toJsonSchema(schema: z.ZodType, io: 'input' | 'output'): { schema: JsonSchema; codes: string[] } {
  // a check may carry a code other than its node's (e.g. a refinement): listed after the others
  const checkCodes: string[] = []
  const json = z.toJSONSchema(schema, {
    io,
    unrepresentable: 'any',
    override: (context) => {
      const [nodeCode, ...otherCodes] = errorCodesOf(context.zodSchema)
      if (nodeCode === undefined) return
      context.jsonSchema['x-error'] = nodeCode
      checkCodes.push(...otherCodes)
    },
  }) as JsonSchema
  delete json.$schema
  const codes = codesInValidationOrder(json)
  for (const code of checkCodes) if (!codes.includes(code)) codes.push(code)
  return { schema: json, codes }
}

function describeJsonMethod(definition: MethodDefinition): ApiMethod {
  const params = toJsonSchema(definition.request, 'input')
  const errors = [...params.codes]
  for (const code of [definition.invalidCode, ...(definition.errors ?? [])]) {
    if (!errors.includes(code)) errors.push(code)
  }
  return {
    op: definition.op,
    encoding: 'json',
    summary: definition.summary ?? '',
    params: params.schema,
    result: definition.reply ? toJsonSchema(definition.reply, 'output').schema : {},
    errors,
  }
}

/** The base methods every MiningOS worker answers, registered by startOrk itself. */
const BASE_METHODS: Record<string, ApiMethod> = {
  ping: {
    op: 'r',
    encoding: 'raw',
    summary: 'Replies the request bytes unchanged (any bytes, not parsed); a liveness check.',
    params: {},
    result: {},
    errors: [],
  },
  echo: {
    op: 'r',
    encoding: 'raw',
    summary: 'Replies the request bytes unchanged (any bytes, not parsed).',
    params: {},
    result: {},
    errors: [],
  },
  getInstanceId: {
    op: 'r',
    encoding: 'json',
    summary:
      'The instance id persisted in the status file (`wrk-ork-proc-aggr-<cluster>-<uuid>`); the request is ignored.',
    params: {},
    result: { type: 'string' },
    errors: [],
  },
}

/**
 * Builds the API reference from the zod schemas of every method {@link orkMethods} lists
 * (plus ping, echo and getInstanceId), in registration order.
 */
export function buildApiDocument(methods: MethodDefinition[] = orkMethods(inertContext())): ApiDocument {
  const document: ApiDocument = {
    name: 'ork',
    description:
      'RPC methods of the MiningOS orchestrator worker (wrk-ork-proc-aggr) over Hyperswarm RPC. ' +
      'Requests and replies are JSON; an application error is the reply "[HRPC_ERR]=<code>".',
    jsonSchemaDialect: DIALECT,
    methods: { ...structuredClone(BASE_METHODS) },
  }
  for (const definition of methods) document.methods[definition.name] = describeJsonMethod(definition)
  return document
}

/** The document as written to disk: stable, two-space indented, with a final newline. */
export function serializeApiDocument(document: ApiDocument): string {
  return `${JSON.stringify(document, null, 2)}\n`
}
