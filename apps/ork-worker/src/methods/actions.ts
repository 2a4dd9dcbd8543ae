import { ACTION_STATES } from '@ork/action-approver'
import { z } from 'zod'
import { validateWriteQuery } from '../actions/action-caller.ts'
import type { OrkContext } from '../context.ts'
import { defineMethod } from '../rpc/method.ts'
import { anyObject } from '../rpc/reply-schemas.ts'
import {
  count,
  jsonObject,
  MAX_REQUEST_IDS,
  MAX_REQUEST_KEYS,
  requestObject,
  requiredString,
} from '../rpc/schema-helpers.ts'

/**
 * The action methods (ork-behaviour.md 4.11, 4.12, 4.15-4.19) and the audit log reader.
 * Permissions (`authPerms`), voters and votes are checked by the handlers, in the
 * reference's order, not by the schemas: malformed permissions deny instead of failing.
 */

/** The query is checked first, as the reference's getWriteCalls does (8.1): before `action` and `params`. */
const writeQuery = jsonObject('ERR_QUERY_INVALID').superRefine((query, context) => {
  try {
    validateWriteQuery(query)
  } catch {
    context.addIssue({ code: 'custom', message: 'ERR_QUERY_INVALID' })
  }
})
const writeShape = {
  query: writeQuery,
  action: requiredString('ERR_ACTION_INVALID'),
  params: z.array(z.unknown(), { error: 'ERR_PARAMS_INVALID' }),
}
const rackType = z.string({ error: 'ERR_RACK_TYPE_INVALID' }).nullish()
const permissions = z
  .unknown()
  .optional()
  .describe('permission strings, e.g. ["miner:rw"]; malformed entries grant nothing')
const voter = z.unknown().optional().describe('non-blank string or integer ≥ 1 (else ERR_VOTER_INVALID)')
const batchUid = z.union([z.string(), z.number()], { error: 'ERR_BATCH_ACTION_UID_INVALID' }).nullish()
const actionId = z.union([z.number(), z.string()], { error: 'ERR_ACTION_ID_NOT_FOUND' })
const ids = z.array(z.unknown(), { error: 'ERR_IDS_INVALID' }).max(MAX_REQUEST_IDS, { error: 'ERR_IDS_INVALID' })

const actionRecord = z.looseObject({
  id: z.number(),
  batchActionUID: z.string().optional(),
  action: z.string(),
  votesPos: z.array(z.unknown()),
  votesNeg: z.array(z.unknown()),
  reqVotesPos: z.number(),
  reqVotesNeg: z.number(),
  status: z.string(),
})
const flatAction = actionRecord.extend({
  params: z.array(z.unknown()),
  targets: anyObject,
  requiredPerms: z.array(z.string()),
})
const pushReply = z.looseObject({
  id: z.number().nullable(),
  data: actionRecord.extend({ payload: z.array(z.unknown()) }).optional(),
  errors: z.array(z.string()),
})

/** pushAction (w): target discovery on the racks, then the action is stored for voting (4.11). */
export const pushAction = (context: OrkContext) =>
  defineMethod({
    name: 'pushAction',
    op: 'w',
    invalidCode: 'ERR_QUERY_INVALID',
    errors: ['ERR_VOTER_INVALID', 'ERR_REQ_VOTES_POS_INVALID', 'ERR_ACTION_TOO_LARGE'],
    summary:
      'Asks every rack the caller may write to which devices `action` touches; stores the action for voting. ' +
      'Reply `{id, data, errors}`, or `{id: null, errors}` ending with `ERR_ORK_ACTION_CALLS_EMPTY` when no device is targeted.',
    reply: pushReply,
    request: requestObject(
      {
        ...writeShape,
        voter,
        authPerms: permissions,
        batchActionUID: batchUid,
        rackType,
      },
      'ERR_QUERY_INVALID',
    ),
    handle: (request) =>
      context.actions.pushAction({
        ...request,
        batchActionUID: request.batchActionUID == null ? null : String(request.batchActionUID),
      }),
  })

/** pushActionsBatch (w): several actions sharing one batch UID (4.12). */
export const pushActionsBatch = (context: OrkContext) =>
  defineMethod({
    name: 'pushActionsBatch',
    op: 'w',
    invalidCode: 'ERR_PAYLOAD_INVALID',
    errors: ['ERR_VOTER_INVALID', 'ERR_REQ_VOTES_POS_INVALID', 'ERR_ACTION_TOO_LARGE'],
    summary:
      'Pushes every `{query, action, params, rackType?}` of `batchActionsPayload` with the batch UID ' +
      '`<ts>-<batchActionUID>[-<suffix>]`; replies the pushAction replies in order.',
    reply: z.array(pushReply),
    request: requestObject(
      {
        batchActionsPayload: z
          .array(requestObject({ ...writeShape, rackType }, 'ERR_PAYLOAD_INVALID'), { error: 'ERR_PAYLOAD_INVALID' })
          .max(MAX_REQUEST_IDS, { error: 'ERR_PAYLOAD_INVALID' }),
        voter,
        authPerms: permissions,
        batchActionUID: batchUid,
        suffix: z.union([z.string(), z.number()], { error: 'ERR_SUFFIX_INVALID' }).nullish(),
      },
      'ERR_PAYLOAD_INVALID',
    ),
    handle: (request) => context.actions.pushActionsBatch(request),
  })

/** getAction (r): one action in one state (4.15). */
export const getAction = (context: OrkContext) =>
  defineMethod({
    name: 'getAction',
    op: 'r',
    invalidCode: 'ERR_SUBDB_UNKOWN',
    errors: ['ERR_ACTION_ID_NOT_FOUND'],
    summary: 'The action `id` in state `type` (voting, ready, executing, done), with params, targets, requiredPerms.',
    reply: flatAction,
    request: requestObject(
      { type: z.enum(ACTION_STATES, { error: 'ERR_SUBDB_UNKOWN' }), id: actionId },
      'ERR_SUBDB_UNKOWN',
    ),
    handle: (request) => context.actions.getAction(request),
  })

/** voteAction (w): approve or deny an action in voting (4.16). */
export const voteAction = (context: OrkContext) =>
  defineMethod({
    name: 'voteAction',
    op: 'w',
    invalidCode: 'ERR_ACTION_ID_NOT_FOUND',
    errors: ['ERR_ACTION_DENIED', 'ERR_VOTER_INVALID', 'ERR_APPROVE_INVALID', 'ERR_VOTER_EXISTS'],
    summary:
      'Votes on an action in voting; `authPerms` must cover every required permission (`miner` or `miner:w`). Replies 1.',
    reply: z.literal(1),
    request: requestObject(
      {
        id: actionId,
        voter,
        approve: z.unknown().optional().describe('true to approve, false to deny (0 / 1 accepted)'),
        authPerms: permissions,
      },
      'ERR_ACTION_ID_NOT_FOUND',
    ),
    handle: (request) => context.actions.voteAction(request),
  })

/** queryActions (r): actions per state, optionally grouped by batch (4.17). */
export const queryActions = (context: OrkContext) =>
  defineMethod({
    name: 'queryActions',
    op: 'r',
    invalidCode: 'ERR_QUERIES_INVALID',
    errors: ['ERR_QUERY_INVALID', 'ERR_FIELDS_INVALID'],
    summary:
      'For each `{type, filter?, opts?, query?, fields?}` the actions of that state; `groupBatch` groups batches, ' +
      '`suffix` keeps batches whose UID ends with it. Reply keyed by state.',
    reply: z.record(z.string(), z.array(anyObject)),
    request: requestObject(
      {
        queries: z
          .array(
            requestObject(
              {
                type: requiredString('ERR_QUERIES_TYPE_INVALID'),
                filter: jsonObject('ERR_QUERIES_INVALID').nullish(),
                opts: jsonObject('ERR_QUERIES_INVALID').nullish(),
                query: jsonObject('ERR_QUERY_INVALID').nullish(),
                fields: jsonObject('ERR_FIELDS_INVALID').nullish(),
              },
              'ERR_QUERIES_TYPE_INVALID',
            ),
            { error: 'ERR_QUERIES_INVALID' },
          )
          .max(MAX_REQUEST_KEYS, { error: 'ERR_QUERIES_INVALID' }),
        suffix: z.union([z.string(), z.number()], { error: 'ERR_SUFFIX_INVALID' }).nullish(),
        groupBatch: z.unknown().optional(),
      },
      'ERR_QUERIES_INVALID',
    ),
    handle: (request) => context.actions.queryActions(request),
  })

/** getActionsBatch (r): several actions by id, in whatever state they are (4.18). */
export const getActionsBatch = (context: OrkContext) =>
  defineMethod({
    name: 'getActionsBatch',
    op: 'r',
    invalidCode: 'ERR_IDS_INVALID',
    summary: 'Each known id as `{type, action}` (first of voting, ready, executing, done); unknown ids are omitted.',
    reply: z.array(z.looseObject({ type: z.enum(ACTION_STATES), action: flatAction })),
    request: requestObject({ ids }, 'ERR_IDS_INVALID'),
    handle: (request) => context.actions.getActionsBatch(request),
  })

/** cancelActionsBatch (w): the creator cancels actions still in voting (4.19). */
export const cancelActionsBatch = (context: OrkContext) =>
  defineMethod({
    name: 'cancelActionsBatch',
    op: 'w',
    invalidCode: 'ERR_IDS_INVALID',
    summary:
      'Cancels (DENIED) the actions in voting created by `voter`; replies `{id, success, error?}` per id, in order.',
    reply: z.array(z.looseObject({ id: z.unknown(), success: z.boolean(), error: z.string().optional() })),
    request: requestObject({ ids, voter }, 'ERR_IDS_INVALID'),
    handle: (request) => context.actions.cancelActionsBatch(request),
  })

/** getAuditLog (r): the audit log of write requests and executions (beyond the reference). */
export const getAuditLog = (context: OrkContext) =>
  defineMethod({
    name: 'getAuditLog',
    op: 'r',
    invalidCode: 'ERR_AUDIT_QUERY_INVALID',
    summary:
      'Audited write requests and action executions (who, what, when, outcome), newest first; ' +
      'filters `start`, `end` (ms), `method`, `voter`; `limit` ≤ 1000 (default 100); `reverse` for oldest first.',
    reply: z.array(
      z.looseObject({
        seq: z.number().int(),
        ts: z.number(),
        kind: z.enum(['request', 'execution']),
        method: z.string(),
        caller: z.string().nullable(),
        outcome: z.enum(['ok', 'error']),
      }),
    ),
    request: requestObject(
      {
        start: z.number({ error: 'ERR_START_INVALID' }).nullish(),
        end: z.number({ error: 'ERR_END_INVALID' }).nullish(),
        method: z.string({ error: 'ERR_METHOD_INVALID' }).nullish(),
        voter: z.union([z.string(), z.number()], { error: 'ERR_VOTER_INVALID' }).nullish(),
        limit: count('ERR_LIMIT_INVALID').nullish(),
        reverse: z.boolean({ error: 'ERR_REVERSE_INVALID' }).nullish(),
      },
      'ERR_AUDIT_QUERY_INVALID',
    ),
    handle: (request) => context.auditLog.read(request),
  })
