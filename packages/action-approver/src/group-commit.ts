/**
 * Group commit: writes requested while a batch is being flushed are gathered
 * into the next batch, so concurrent operations share one append instead of
 * queueing for one append each. Every request's operations stay together in one
 * batch, so each stays atomic; the order of requests is kept.
 */
export class GroupCommit<Operation> {
  readonly #apply: (operations: Operation[]) => Promise<void>
  #queue: Array<{ operations: Operation[]; resolve: () => void; reject: (error: unknown) => void }> = []
  #draining = false

  constructor(apply: (operations: Operation[]) => Promise<void>) {
    this.#apply = apply
  }

  write(operations: Operation[]): Promise<void> {
    return new Promise((resolve, reject) => {
      this.#queue.push({ operations, resolve, reject })
      if (!this.#draining) void this.#drain()
    })
  }

  async #drain(): Promise<void> {
    this.#draining = true
    try {
      while (this.#queue.length > 0) {
        const group = this.#queue
        this.#queue = []
        try {
          await this.#apply(group.flatMap((request) => request.operations))
          for (const request of group) request.resolve()
        } catch (error) {
          if (group.length === 1) group[0]!.reject(error)
          // One request must not fail the others it happened to share a batch with.
          else for (const request of group) await this.#apply(request.operations).then(request.resolve, request.reject)
        }
      }
    } finally {
      this.#draining = false
    }
  }
}
