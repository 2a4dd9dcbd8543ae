/**
 * An error whose `code` is a MiningOS wire code such as `ERR_RACK_ID_INVALID`.
 *
 * The message is the code itself, so that the `[HRPC_ERR]=<message>` reply the
 * reference sends stays byte-identical. Extra context for logs goes in `details`,
 * which never reaches the wire.
 */
export class OrkError extends Error {
  readonly code: string
  readonly details: Readonly<Record<string, unknown>> | undefined

  constructor(code: string, details?: Record<string, unknown>, options?: { cause?: unknown }) {
    super(code, options)
    this.name = 'OrkError'
    this.code = code
    this.details = details
  }
}

/** True when `value` is an {@link OrkError}, optionally with the given code. */
export function isOrkError(value: unknown, code?: string): value is OrkError {
  return value instanceof OrkError && (code === undefined || value.code === code)
}

/** The code of a store write the file system refused (disk full, file-size limit, I/O error). */
export const STORE_WRITE_FAILED = 'ERR_STORE_WRITE_FAILED'

/** A system error code such as `ENOSPC` or `EIO` (not an `ERR_…` wire code). */
const SYSTEM_ERROR_CODE = /^E[A-Z0-9]+$/

/** How many `cause` links are followed looking for the system error. */
const MAX_CAUSE_DEPTH = 8

/**
 * The coded error for a store write the file system refused, or `undefined` for any other
 * error: an {@link OrkError} `ERR_STORE_WRITE_FAILED` whose `details` hold the system `code`
 * and its `reason` (`ENOSPC` "No space left on device", `EIO` "File too large", …).
 *
 * Why the cause chain: RocksDB, under corestore 7, rejects such a write with a bare `Batch
 * was not applied` whose `cause` carries the system error, which would otherwise reach
 * clients and logs as that uncoded message. Node's own fs errors carry the code themselves.
 * An `ERR_STORE_WRITE_FAILED` is returned as it is; any other `OrkError` gives `undefined`.
 */
export function storeWriteError(error: unknown): OrkError | undefined {
  let current: unknown = error
  for (let depth = 0; depth < MAX_CAUSE_DEPTH && current instanceof Error; depth++) {
    if (current instanceof OrkError) return current.code === STORE_WRITE_FAILED ? current : undefined
    const code = (current as { code?: unknown }).code
    if (typeof code === 'string' && SYSTEM_ERROR_CODE.test(code)) {
      return new OrkError(STORE_WRITE_FAILED, { code, reason: current.message }, { cause: error })
    }
    current = current.cause
  }
  return undefined
}

/** What {@link writeStoreBatch} needs of a store batch (a Hyperbee batch). */
export interface StoreBatch {
  flush(): Promise<unknown>
  close(): Promise<unknown>
}

/**
 * Fills a store batch with `fill` and writes it: all or nothing. When either fails, the batch
 * is closed (releasing its lock on the store) and the error rejects, as {@link storeWriteError}
 * codes it when the file system refused the write, after `onWriteFailed` has been told.
 */
export async function writeStoreBatch<Batch extends StoreBatch>(
  batch: Batch,
  fill: (batch: Batch) => Promise<void>,
  onWriteFailed?: (error: unknown) => void,
): Promise<void> {
  try {
    await fill(batch)
    await batch.flush()
  } catch (error) {
    await batch.close().catch(() => {})
    const failure = storeWriteError(error) ?? error
    onWriteFailed?.(failure)
    throw failure
  }
}
