import type { CallContext, ManagementMethod } from './management/method.ts'
import type { Forwarder } from './providers/forward.ts'
import { ForbiddenError, MethodNotFoundError, RpcError, errorOutcome } from './rpc/errors.ts'
import { isNotification, parseBody, type ParsedCall } from './rpc/parse.ts'
import { toReplyText } from './rpc/reply.ts'
import { resultOf, type Outcome, type RpcCall } from './rpc/types.ts'

export type ProxyOptions = {
  /** Methods the proxy answers itself, by name. */
  management: Record<string, ManagementMethod>
  forward: Forwarder
  maxBatchSize: number
  /** Logs an unexpected exception; the caller only sees -32603 with fixed text. */
  onUnexpected: (error: unknown) => void
}

/** The transport-independent pipeline: a body in, the response text out (null: nothing to answer). */
export type Proxy = {
  handleBody(text: string, context: CallContext): Promise<string | null>
  handleCall(call: RpcCall, context: CallContext): Promise<Outcome>
}

/**
 * The pipeline, top to bottom: parse the body, answer management methods by name, forward the rest
 * (with failover), and reply with each caller's own id. Batches run their calls independently.
 */
export function createProxy(options: ProxyOptions): Proxy {
  const management = new Map(Object.entries(options.management))

  const handleCall = async (call: RpcCall, context: CallContext): Promise<Outcome> => {
    const method = management.get(call.method)
    if (method !== undefined) return runManagement(method, call, context)
    // The edb_ namespace is ours: never forward it to a provider.
    if (call.method.startsWith('edb_')) return errorOutcome(new MethodNotFoundError(call.method))
    return options.forward(call, isNotification(call))
  }

  const answer = async (entry: ParsedCall, context: CallContext): Promise<string | null> => {
    if (entry.error !== undefined) return toReplyText(entry.id, errorOutcome(entry.error))
    const outcome = await handleCall(entry.call, context).catch((error: unknown) => {
      options.onUnexpected(error)
      return errorOutcome(error)
    })
    return isNotification(entry.call) ? null : toReplyText(entry.call.id ?? null, outcome)
  }

  return {
    handleCall,
    async handleBody(text, context) {
      const parsed = parseBody(text, { maxBatchSize: options.maxBatchSize })
      if (parsed.kind === 'invalid') return toReplyText(null, errorOutcome(parsed.error))
      if (parsed.kind === 'single') return answer(parsed.entry, context)
      const replies = await Promise.all(parsed.entries.map((entry) => answer(entry, context)))
      const present = replies.filter((reply) => reply !== null)
      // JSON-RPC 2.0 §6: a batch of notifications only gets no response at all.
      return present.length === 0 ? null : `[${present.join(',')}]`
    },
  }
}

async function runManagement(method: ManagementMethod, call: RpcCall, context: CallContext): Promise<Outcome> {
  try {
    if (method.privileged && context.adminDenied !== undefined) {
      throw new ForbiddenError(`${call.method} refused: ${context.adminDenied}`)
    }
    return resultOf(await method.run(call.params, context))
  } catch (error) {
    if (error instanceof RpcError) return errorOutcome(error)
    throw error
  }
}
