/** The messages between the ork and its tailLog aggregation thread (see off-thread-aggregation.ts). */
import { OrkError } from '@ork/errors'
import type { AggrTimeRange, TailLogSpec } from '@ork/stats'

/** What the thread is sent. */
export type ToThread =
  | { type: 'reply'; run: number; index: number; bytes: ArrayBuffer }
  | { type: 'value'; run: number; index: number; value: unknown }
  | { type: 'finish'; run: number; rackCount: number; spec: TailLogSpec; aggrTimes: AggrTimeRange[] | undefined }
  | { type: 'drop'; run: number }

/** An error as it crosses between threads (an OrkError keeps its code and details). */
export interface CarriedError {
  message: string
  code?: string | undefined
  details?: Record<string, unknown> | undefined
}

/** What the thread answers to `finish`. */
export type FromThread =
  | {
      type: 'done'
      run: number
      rows: unknown[]
      /** Racks whose reply the thread could not decode: they contributed nothing. */
      failures: { index: number; error: CarriedError }[]
      /** What stopped the aggregation early (the rows before it are kept, COPY Q5). */
      aggregationError: CarriedError | undefined
      /** Time the thread spent grouping and aggregating (decoding excluded), for benchmarks. */
      aggregationMs: number
    }
  | { type: 'failed'; run: number; error: CarriedError }

export function carryError(error: unknown): CarriedError {
  if (error instanceof OrkError) return { message: error.message, code: error.code, details: error.details }
  return { message: error instanceof Error ? error.message : String(error) }
}

export function restoreError(carried: CarriedError): Error {
  return carried.code ? new OrkError(carried.code, carried.details) : new Error(carried.message)
}
