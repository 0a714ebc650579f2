import type { BodyReply, Pipeline } from '../../src/pipeline/index.ts'
import type { CallContext } from '../../src/rpc/context.ts'
import { errorOutcome, RateLimitedError, type RpcError } from '../../src/rpc/errors.ts'
import { isNotification, parseBody } from '../../src/rpc/parse.ts'
import { toReplyText } from '../../src/rpc/reply.ts'
import type { CacheStatus, RpcCall } from '../../src/rpc/types.ts'

/** What the script answers one call with: a result (and how the cache took part), an error, or an exception. */
export type ScriptedAnswer = (
  | { result: unknown; cache?: CacheStatus; provider?: string; subscription?: string }
  | { error: RpcError }
  | { throws: Error }
) & {
  /** Answer asynchronously: on the next turn (true), or once this settles. */
  later?: boolean | Promise<unknown>
}

/**
 * A stand-in for the pipeline behind the transports' seam, `handle(text, context)`: the real
 * parser (so -32700 and -32600 are the proxy's own texts), then each call answered by `script`,
 * synchronously unless an answer says `later`. Transport tests need no chain, cache or upstream.
 */
export function createScriptedPipeline(
  script: (call: RpcCall, context: CallContext) => ScriptedAnswer,
): Pipeline & { bodies: string[] } {
  const bodies: string[] = []
  return {
    bodies,
    handle(text, contextOf) {
      bodies.push(text)
      const parsed = parseBody(text, { maxBatchSize: 5 })
      if (parsed.kind === 'invalid') return { text: toReplyText('null', errorOutcome(parsed.error)), cache: 'BYPASS' }
      const entries = parsed.kind === 'single' ? [parsed.entry] : parsed.entries
      const answers = entries.map((entry) =>
        entry.call === undefined ? { error: entry.error } : script(entry.call, contextOf()),
      )
      const reply = () => assemble(parsed.kind === 'batch', entries, answers)
      const waits = answers.flatMap((answer) =>
        answer.later === undefined || answer.later === false ? [] : [answer.later],
      )
      return waits.length === 0 ? reply() : Promise.all(waits).then(reply)
    },
  }
}

function assemble(batch: boolean, entries: { idJson: string; call?: RpcCall }[], answers: ScriptedAnswer[]): BodyReply {
  const texts: string[] = []
  const subscriptions: string[] = []
  let cache: CacheStatus = 'BYPASS'
  let provider: string | undefined
  answers.forEach((answer, index) => {
    if ('throws' in answer) throw answer.throws
    const entry = entries[index] as { idJson: string; call?: RpcCall }
    const notification = entry.call !== undefined && isNotification(entry.call)
    if ('error' in answer) {
      if (!notification) texts.push(toReplyText(entry.idJson, errorOutcome(answer.error)))
      return
    }
    if (!notification) texts.push(toReplyText(entry.idJson, { resultJson: JSON.stringify(answer.result) }))
    if (answer.cache !== undefined) cache = answer.cache
    provider ??= answer.provider
    if (answer.subscription !== undefined) subscriptions.push(answer.subscription)
  })
  const text = texts.length === 0 ? null : batch ? `[${texts.join(',')}]` : (texts[0] as string)
  const limited = answers.every((answer) => 'error' in answer && answer.error instanceof RateLimitedError)
  const retryAfterS = limited
    ? Math.max(...answers.map((answer) => ('error' in answer ? (answer.error as RateLimitedError).retryAfterS : 0)))
    : undefined
  return { text, cache, provider, retryAfterS, ...(subscriptions.length > 0 ? { subscriptions } : {}) }
}
