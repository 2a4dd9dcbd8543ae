import { rmSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { expect } from 'vitest'
import { loadWorkerConfig, type WorkerConfig } from '../../src/config/load-config.ts'
import { createServiceRoot, type Harness } from './harness.ts'

/** A worker config from the shipped examples with a fast approver tick (and any overrides of base.ork.json). */
export function fastActionsConfig(ork: Record<string, unknown> = {}): WorkerConfig {
  const root = createServiceRoot()
  writeFileSync(
    join(root, 'config/base.ork.json'),
    JSON.stringify({ actionIntvlMs: 100, callTargetsLimit: 50, ...ork }),
  )
  try {
    return loadWorkerConfig(root, 'production')
  } finally {
    rmSync(root, { recursive: true, force: true })
  }
}

/** Polls `read` until `accept` holds (or fails the test after `timeoutMs`). */
export async function waitFor<T>(
  read: () => Promise<T>,
  accept: (value: T) => boolean,
  timeoutMs = 10_000,
): Promise<T> {
  const deadline = Date.now() + timeoutMs
  for (;;) {
    const value = await read()
    if (accept(value)) return value
    if (Date.now() > deadline) {
      expect.fail(`condition not met in ${timeoutMs} ms; last value: ${JSON.stringify(value).slice(0, 2000)}`)
    }
    await new Promise((resolve) => setTimeout(resolve, 50))
  }
}

/** The `[HRPC_ERR]=<code>` rejection a client sees for an ork error. */
export const remoteError = (code: string) => expect.objectContaining({ message: `[HRPC_ERR]=${code}` })

export interface ActionLookup {
  type: string
  action: {
    id: number
    status: string
    error?: string
    votesPos: unknown[]
    votesNeg: unknown[]
    params: unknown[]
    requiredPerms: string[]
    targets: Record<
      string,
      { calls: { id: unknown; result?: unknown; error?: string; tags?: unknown }[]; error?: string }
    >
    batchActionUID?: string
  }
}

/** An action by id, whatever its state (getActionsBatch). */
export const lookupAction = async (harness: Harness, id: number) =>
  ((await harness.call('getActionsBatch', { ids: [id] })) as ActionLookup[])[0] as ActionLookup

/** Waits until the action `id` is done, and returns it. */
export const untilActionDone = (harness: Harness, id: number, timeoutMs?: number) =>
  waitFor(
    () => lookupAction(harness, id),
    (found) => found?.type === 'done',
    timeoutMs,
  )
