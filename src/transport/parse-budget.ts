import { BodyTooCostlyError, OverloadedError, type RpcError } from '../rpc/errors.ts'
import { estimateParseCost } from '../rpc/parse-cost.ts'

export type ParseBudgetOptions = {
  /** One body may cost at most this many times its size in memory. @default 16 */
  maxCostFactor?: number
  /** ...but always this much (small bodies are never refused for their shape). @default 16 MiB */
  minCostBytes?: number
  /** All bodies being answered together may cost at most this much. @default 1 GiB */
  maxInFlightBytes?: number
}

/** Admitted (with the cost to release when answered), or refused with the HTTP status and error. */
export type Admission =
  | { cost: number; status?: undefined; error?: undefined }
  | { status: 413 | 503; error: RpcError; cost?: undefined }

/**
 * SPEC §8: the memory one request's parse may cost is bounded by a small multiple of its size, and
 * the memory of all requests in flight by a total; beyond either, a clear JSON-RPC error (413 for
 * the body itself, 503 for the moment), never an out-of-memory.
 */
export function createParseBudget({
  maxCostFactor = 16,
  minCostBytes = 16 << 20,
  maxInFlightBytes = 1 << 30,
}: ParseBudgetOptions = {}) {
  let inFlight = 0
  return {
    admit(text: string): Admission {
      const cost = estimateParseCost(text)
      if (cost > Math.max(minCostBytes, maxCostFactor * text.length))
        return { status: 413, error: new BodyTooCostlyError(cost, text.length) }
      if (inFlight + cost > maxInFlightBytes && inFlight > 0) return { status: 503, error: new OverloadedError() }
      inFlight += cost
      return { cost }
    },
    release(cost: number): void {
      inFlight -= cost
    },
    get inFlightBytes() {
      return inFlight
    },
  }
}

export type ParseBudget = ReturnType<typeof createParseBudget>
