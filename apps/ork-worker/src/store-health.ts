import { isOrkError, OrkError, STORE_WRITE_FAILED } from '@ork/errors'
import type { Logger } from '@ork/logger'

/**
 * Whether a refused store write means there was no room: a full disk or quota, or a file at the
 * process's size limit (`ulimit -f`). RocksDB reports both as `EIO` with the system's text.
 */
export function isOutOfSpace(refusal: OrkError): boolean {
  const { code, reason } = refusal.details ?? {}
  return (
    code === 'ENOSPC' ||
    code === 'EDQUOT' ||
    code === 'EFBIG' ||
    /no space left|file too large|quota exceeded/i.test(String(reason))
  )
}

export interface StoreHealthOptions {
  /** The data store's directory, named in the log line. */
  storeDir: string
  logger: Logger
}

/**
 * Whether the data store (`store/<cluster>-db`) still takes writes.
 *
 * Once RocksDB has failed to write (a full disk, a file at the size limit, an I/O error), it
 * refuses every later write until the store is opened again: freeing space does not help
 * (measured on a full tmpfs). So the first refusal is logged once, with the likely cause and
 * what to do; from then on write requests are refused before they start, so that nothing is
 * half done (no rack asked, nothing sent that could not be audited), and the jobs that would
 * only fail to store their work are stopped. Reads go on.
 */
export class StoreHealth {
  readonly #storeDir: string
  readonly #logger: Logger
  readonly #stops: (() => void)[] = []
  #refusal: OrkError | null = null

  constructor(options: StoreHealthOptions) {
    this.#storeDir = options.storeDir
    this.#logger = options.logger
  }

  /** The first write the store refused, or null while it takes writes. */
  get refusal(): OrkError | null {
    return this.#refusal
  }

  /** Runs `stop` once the store refuses writes: a job whose work could not be stored. */
  onRefusal(stop: () => void): void {
    if (this.#refusal) stop()
    else this.#stops.push(stop)
  }

  /**
   * Takes note of the error of a store write: the first `ERR_STORE_WRITE_FAILED` makes the
   * store read-only for the rest of the process. Any other error is not the store's refusal.
   */
  noteFailure(error: unknown): void {
    if (this.#refusal || !isOrkError(error, STORE_WRITE_FAILED)) return
    this.#refusal = error
    const cause = isOutOfSpace(error) ? 'disk full?' : 'the file system refused it'
    this.#logger.error(
      `the data store refuses writes (${cause}): write requests get ${STORE_WRITE_FAILED} and the jobs that write ` +
        'are stopped until the worker restarts; reads go on. Free space, then restart the worker',
      { storeDir: this.#storeDir, ...error.details },
    )
    for (const stop of this.#stops.splice(0)) {
      try {
        stop()
      } catch (stopError) {
        this.#logger.error('stopping a job failed', { error: stopError })
      }
    }
  }

  /** Throws `ERR_STORE_WRITE_FAILED` once the store refuses writes. */
  assertWritable(): void {
    if (this.#refusal) throw new OrkError(STORE_WRITE_FAILED, { ...this.#refusal.details })
  }
}
