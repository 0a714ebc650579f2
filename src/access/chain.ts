import type { CallContext } from '../rpc/context.ts'
import { type BrowserRules, browserFilter } from './browser.ts'
import { clientTokenFilter } from './client-token.ts'
import { hostFilter } from './host.ts'
import { identityFilter } from './identity.ts'
import { createTokenCheck, type Tokens } from './tokens.ts'
import type { ContextFilter, Refusal, RefusalFilter, RequestFacts } from './types.ts'

/** The peer address of a transport that does not know it. */
export const NO_ADDRESS = (): undefined => undefined

/** Everything the access filters need to know (SPEC §8, §13). */
export type AccessOptions = BrowserRules & Tokens

/** The ordered filters every request passes before the pipeline, HTTP and WebSocket alike. */
export type FilterChain = {
  /** The first refusal of the refusing filters, in order, or undefined. */
  refusalOf(facts: RequestFacts): Refusal | undefined
  /** The context a request's calls run in, from the describing filters, in order. */
  contextOf(facts: RequestFacts): CallContext
}

/**
 * SPEC §13's chain, assembled in one place: the refusing filters (Host rules, client token), run
 * on every request; then the describing ones (identity, browser rules), run only when a call needs
 * the caller's context. Rate limits are charged per call in the pipeline (a call's cost depends on
 * its method, and a batch is judged call by call); body and batch limits are the transports' and
 * the parser's, before anything is parsed.
 */
export function createFilterChain(options: AccessOptions): FilterChain {
  const tokens = createTokenCheck(options)
  const refusing: RefusalFilter[] = [hostFilter(options.loopbackBound), clientTokenFilter(tokens)]
  const describing: ContextFilter[] = [identityFilter(tokens), browserFilter(options, tokens)]
  return {
    refusalOf(facts) {
      for (const filter of refusing) {
        const refusal = filter(facts)
        if (refusal !== undefined) return refusal
      }
      return undefined
    },
    contextOf(facts) {
      const context: CallContext = {}
      for (const filter of describing) filter(facts, context)
      return context
    },
  }
}

export type { Refusal, RequestFacts } from './types.ts'
