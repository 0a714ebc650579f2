import { ProvidersUnavailableError, toErrorObject, type AttemptReport } from '../rpc/errors.ts'
import type { Outcome, RpcCall } from '../rpc/types.ts'
import { classifyRpcError } from './classify.ts'
import { recordFailure, recordSuccess, type Provider } from './provider.ts'
import type { ProviderSelector } from './select.ts'
import { postToProvider } from './upstream.ts'
import { UpstreamError, UpstreamRpcFaultError } from './upstream-errors.ts'

export type ForwarderOptions = {
  providers: readonly Provider[]
  select: ProviderSelector
  /** Longest one attempt may take. */
  timeoutMs: number
  /** Longest all attempts of one call may take together. */
  deadlineMs: number
  maxFailures: number
  maxResponseBytes: number
  now?: () => number
}

/** Sends one call upstream with failover and returns its outcome; never throws. */
export type Forwarder = (call: RpcCall, notification: boolean) => Promise<Outcome>

/**
 * The failover loop: try providers in the selector's order until one answers. Transport failures,
 * bad bodies and provider-fault errors move on; an upstream answer (result or deterministic error)
 * is returned at once. This is the one place upstream failures are caught.
 */
export function createForwarder(options: ForwarderOptions): Forwarder {
  const now = options.now ?? Date.now
  let nextUpstreamId = 1
  return async (call, notification) => {
    if (options.providers.length === 0) {
      return { error: unavailable('No upstream providers configured (cache-only mode) and the answer is not cached', []) }
    }
    const upstreamId = nextUpstreamId++
    const body = JSON.stringify(
      notification
        ? { jsonrpc: '2.0', method: call.method, params: call.params }
        : { jsonrpc: '2.0', id: upstreamId, method: call.method, params: call.params },
    )
    const attempts: AttemptReport[] = []
    const deadline = now() + options.deadlineMs
    for (const provider of options.select(options.providers)) {
      const remainingMs = deadline - now()
      if (remainingMs <= 0) break
      const startedAt = now()
      try {
        const answer = await postToProvider(provider, body, {
          timeoutMs: Math.min(options.timeoutMs, remainingMs),
          maxResponseBytes: options.maxResponseBytes,
          notification,
        })
        if (answer.kind === 'error') {
          const verdict = classifyRpcError(answer.error)
          if (verdict !== 'answer') throw new UpstreamRpcFaultError(provider.label, verdict, answer.error)
        }
        recordSuccess(provider, now() - startedAt, now())
        if (answer.kind === 'result') return { resultJson: answer.resultJson }
        if (answer.kind === 'error') return { error: answer.error }
        return { resultJson: 'null' }
      } catch (error) {
        if (!(error instanceof UpstreamError)) throw error
        recordFailure(provider, options.maxFailures, now())
        attempts.push({ provider: error.provider, failure: error.kind, message: error.message })
      }
    }
    return { error: unavailable(`All ${attempts.length} upstream attempts failed`, attempts) }
  }
}

function unavailable(message: string, attempts: AttemptReport[]) {
  return toErrorObject(new ProvidersUnavailableError(message, attempts))
}
