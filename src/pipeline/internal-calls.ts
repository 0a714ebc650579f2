import type { Forwarder } from '../providers/forward.ts'
import { NOT_HERE } from '../rpc/answer-check.ts'
import type { Outcome, RpcCall } from '../rpc/types.ts'
import type { Resolver } from './resolve.ts'
import { INTERNAL_SCOPE } from './scope.ts'

/**
 * The proxy's own calls, in one place: what the head tracker, the stream hub and the filters ask.
 * Head and stream calls describe "now" and go straight to the failover loop (never cached, never
 * coalesced with a client's); a filter's logs (`eth_getFilterLogs`) are an ordinary data call and
 * go through the resolver: cache, coalescing, answer check.
 */
export type InternalCalls = {
  /** One call with failover, not cached (chain detection, the head tracker). */
  send(call: RpcCall): Promise<Outcome>
  /** A stream's call; `notHere` marks answers that mean "this provider does not have it yet" (tried elsewhere). */
  stream(method: string, params: unknown[], notHere?: (value: unknown) => boolean): Promise<Outcome>
  /** `eth_getLogs` through the data path. */
  getLogs(filter: unknown): Promise<Outcome>
}

export function createInternalCalls({ forward, resolve }: { forward: Forwarder; resolve: Resolver }): InternalCalls {
  return {
    send: (call) => forward(call),
    stream: (method, params, notHere) =>
      forward(
        { jsonrpc: '2.0', id: 0, method, params },
        notHere === undefined ? undefined : { check: (value) => (notHere(value) ? NOT_HERE : undefined) },
      ),
    getLogs: async (filter) =>
      (await resolve({ jsonrpc: '2.0', id: 0, method: 'eth_getLogs', params: [filter] }, INTERNAL_SCOPE)).outcome,
  }
}
