/** What a fake rack transport receives from the fan-out besides the request. */
export interface FakeRequestOptions {
  decode?: (body: Buffer) => unknown
}

/**
 * A reply's bytes as RpcNode.request treats them: given to the caller's `decode` when there is
 * one (tailLog hands them to its aggregation thread), else parsed as JSON.
 */
export function replyAsTransport(body: Buffer, options: FakeRequestOptions | undefined): unknown {
  return options?.decode ? options.decode(body) : JSON.parse(body.toString())
}
