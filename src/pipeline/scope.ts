import type { UpstreamBatch } from '../providers/upstream-batch.ts'
import type { ContextSource } from '../rpc/context.ts'
import type { CacheStatus, Outcome } from '../rpc/types.ts'

/**
 * What every call of one body shares, passed down the stages as one object (never as positional
 * parameters): who calls, the upstream batch its misses travel in, and the gate a call passes on its
 * way upstream (the rate limit, when hits are free).
 */
export type BodyScope = {
  context: ContextSource
  /** The client batch's upstream side: its misses go to a provider as JSON-RPC batches. */
  batch?: UpstreamBatch
  /** Wraps every step that goes upstream: the rate limit charges there when cache hits are free. */
  gate: Gate
}

/** Runs `go` (a step that goes upstream), or answers in its place (a refusal). */
export type Gate = (go: () => Promise<Resolved>) => Promise<Resolved>

/** A call's answer as the pipeline sees it: the protocol outcome, and how it came to be. */
export type Resolved = {
  outcome: Outcome
  /** How the cache took part (`x-cache`); undefined for methods the proxy answers itself. */
  cache?: CacheStatus
  /** The cache key a HIT was answered from: lets the reply be remembered for identical bodies. */
  key?: string
  /** Refused by the rate limit: seconds until the budget allows a call (HTTP 429 when all were). */
  retryAfterS?: number
  /** The subscription this call created (`eth_subscribe`). */
  subscription?: string
  /** A state answer's proof (SPEC §15, `x-verified`): proven against the chain, or not provable. */
  verified?: 'proof' | 'none'
}

/** The gate of a call that nothing holds back. */
export const OPEN_GATE: Gate = (go) => go()

/** A scope for the proxy's own calls: nobody to charge, no batch. */
export const INTERNAL_SCOPE: BodyScope = { context: () => ({ loopback: true }), gate: OPEN_GATE }
