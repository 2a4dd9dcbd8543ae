/**
 * What the approver uses of a Hyperbee 2 instance. Written out because hyperbee ships no
 * types, so that this package's types need nothing from it: any Hyperbee fits. The approver
 * always reads and writes with binary encodings, whatever the bee's own.
 */

/** The encodings the approver passes on every read and batch. */
export interface BinaryEncodings {
  keyEncoding: 'binary'
  valueEncoding: 'binary'
}

/** A stored entry, read with binary encodings. */
export interface ActionsBeeEntry {
  key: Buffer
  value: Buffer
}

/** A key range with hyperbee's read options. */
export interface ActionsBeeRange extends Partial<BinaryEncodings> {
  gt?: Buffer
  gte?: Buffer
  lt?: Buffer
  lte?: Buffer
  limit?: number
  reverse?: boolean
}

export interface ActionsBee {
  /** Set on a sub-bee: the approver keeps its keys under it. */
  readonly prefix?: Buffer | null
  readonly sep?: Buffer
  ready(): Promise<void>
  get(key: Buffer, options: BinaryEncodings): Promise<ActionsBeeEntry | null>
  createReadStream(range: ActionsBeeRange): AsyncIterable<ActionsBeeEntry>
  /** One atomic append of every put and del, on `flush`. */
  batch(options: BinaryEncodings): {
    put(key: Buffer, value: Buffer): Promise<void>
    del(key: Buffer): Promise<void>
    flush(): Promise<void>
    close(): Promise<void>
  }
}
