import type { BodyReply, Pipeline } from '../pipeline/index.ts'
import type { ContextSource } from '../rpc/context.ts'
import { errorOutcome, InternalError, type RpcError } from '../rpc/errors.ts'
import { toReplyText } from '../rpc/reply.ts'
import type { ParseBudget } from './parse-budget.ts'

/**
 * What a body got: the pipeline's reply as it is, or the proxy's own answer with the HTTP status it
 * goes with (413 or 503 from the parse budget, 500 for an unexpected exception, 499 for a caller
 * gone before its answer). A WebSocket sends the text either way; HTTP also sets the status.
 */
export type ServedBody = BodyReply & { status?: 413 | 499 | 500 | 503 }

/** A caller that may hang up before its answer (an HTTP request; its signal is read only on failure). */
export type Caller = { readonly signal: AbortSignal }

export type BodyServerOptions = {
  pipeline: Pipeline
  /** Memory bounds on parsing, per body and in flight, shared by both transports. */
  budget: ParseBudget
  /** Logs an unexpected exception (details never reach the client). */
  onUnexpected: (error: unknown) => void
  /** A caller hung up before its answer: not an error of the proxy's (SPEC §3). */
  onHangUp?: () => void
}

/** The one admission path of a body or frame: `serve` it, or turn an exception into the proxy's answer (`fail`). */
export type BodyServer = {
  /** Admit under the parse budget, handle, release; synchronous when the pipeline answers synchronously. */
  serve(text: string, context: ContextSource, caller?: Caller): ServedBody | Promise<ServedBody>
  /** An exception while answering: -32603 with fixed text (logged, never shown), or nothing for a caller gone. */
  fail(error: unknown, caller?: Caller): ServedBody
}

/**
 * The seam both transports share (SPEC §3, §8, §12): a body, once read, is admitted by the parse
 * budget (413 for its shape, 503 while others use the memory), handed to `pipeline.handle`, and its
 * cost released when the reply is in, whether it came synchronously (a remembered reply), later,
 * or as an exception. The transports only read bodies and write replies.
 */
export function createBodyServer({ pipeline, budget, onUnexpected, onHangUp }: BodyServerOptions): BodyServer {
  const fail = (error: unknown, caller?: Caller): ServedBody => {
    if (caller?.signal.aborted) {
      onHangUp?.()
      return HUNG_UP
    }
    onUnexpected(error)
    return INTERNAL_ERROR
  }

  const settle = async (pending: Promise<BodyReply>, cost: number, caller?: Caller): Promise<ServedBody> => {
    try {
      return await pending
    } catch (error) {
      return fail(error, caller)
    } finally {
      budget.release(cost)
    }
  }

  const serve = (text: string, context: ContextSource, caller?: Caller): ServedBody | Promise<ServedBody> => {
    const admitted = budget.admit(text)
    if (admitted.error !== undefined) return refused(admitted.status, admitted.error)
    let pending: BodyReply | Promise<BodyReply>
    try {
      pending = pipeline.handle(text, context)
    } catch (error) {
      budget.release(admitted.cost)
      return fail(error, caller)
    }
    if (pending instanceof Promise) return settle(pending, admitted.cost, caller)
    budget.release(admitted.cost)
    return pending
  }

  return { serve, fail }
}

function refused(status: 413 | 503, error: RpcError): ServedBody {
  return { text: toReplyText('null', errorOutcome(error)), cache: 'BYPASS', status }
}

/** The fixed text of an unexpected exception: the same for every caller, built once. */
const INTERNAL_ERROR: ServedBody = {
  text: toReplyText('null', errorOutcome(new InternalError())),
  cache: 'BYPASS',
  status: 500,
}
const HUNG_UP: ServedBody = { text: null, cache: 'BYPASS', status: 499 }
