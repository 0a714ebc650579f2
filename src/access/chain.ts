import type { CallContext } from '../rpc/context.ts'
import { type BrowserRules, browserRule } from './browser.ts'
import { clientTokenRule } from './client-token.ts'
import { hostRule } from './host.ts'
import { identityRule } from './identity.ts'
import { createTokenCheck, type Tokens } from './tokens.ts'
import type { ContextRule, Refusal, RefusalRule, RequestFacts } from './types.ts'

/** The peer address of a transport that does not know it. */
export const NO_ADDRESS = (): undefined => undefined

/** Everything the access rules need to know (SPEC §8, §13). */
export type AccessOptions = BrowserRules & Tokens

/** The ordered rules every request passes before the pipeline, HTTP and WebSocket alike. */
export type AccessChain = {
  /** The first refusal of the refusing rules, in order, or undefined. */
  refusalOf(facts: RequestFacts): Refusal | undefined
  /** The context a request's calls run in, from the describing rules, in order. */
  contextOf(facts: RequestFacts): CallContext
}

/**
 * SPEC §13's chain, assembled in one place: the refusing rules (Host rules, client token), run
 * on every request; then the describing ones (identity, browser rules), run only when a call needs
 * the caller's context. Rate limits are charged per call in the pipeline (a call's cost depends on
 * its method, and a batch is judged call by call); body and batch limits are the transports' and
 * the parser's, before anything is parsed.
 */
export function createAccessChain(options: AccessOptions): AccessChain {
  const tokens = createTokenCheck(options)
  const refusing: RefusalRule[] = [hostRule(options.loopbackBound), clientTokenRule(tokens)]
  const describing: ContextRule[] = [identityRule(tokens), browserRule(options, tokens)]
  return {
    refusalOf(facts) {
      for (const rule of refusing) {
        const refusal = rule(facts)
        if (refusal !== undefined) return refusal
      }
      return undefined
    },
    contextOf(facts) {
      const context: CallContext = {}
      for (const rule of describing) rule(facts, context)
      return context
    },
  }
}

export type { Refusal, RequestFacts } from './types.ts'
