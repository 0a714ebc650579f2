import { type TokenCheck, tokenOf } from './tokens.ts'
import type { ContextRule } from './types.ts'

export type BrowserRules = {
  loopbackBound: boolean
  /** Whether a browser origin may call the methods that change a node's state or use its keys (`--allowed-origins`). */
  originAllowed?: (origin: string) => boolean
}

/**
 * SPEC §8: who may call the state-changing management methods (never a browser; off loopback only
 * with the admin token), and whether a browser origin may call the methods that change a node's
 * state or use its keys.
 */
export function browserRule(rules: BrowserRules, tokens: TokenCheck): ContextRule {
  return ({ headers }, context) => {
    const origin = headers.get('origin')
    if (origin !== null && !(rules.originAllowed?.(origin) ?? false)) {
      context.originDenied = `the origin ${JSON.stringify(origin)} may not change the node's state or use its keys (allow it with --allowed-origins)`
    }
    const token = tokens.adminConfigured ? tokenOf(headers) : undefined
    const isAdmin = token !== undefined && tokens.match(token)?.kind === 'admin'
    if (origin !== null) context.adminDenied = 'not allowed from a browser (the request carries an Origin header)'
    else if (isAdmin) return
    else if (tokens.adminConfigured)
      context.adminDenied = 'the admin token is required (Authorization: Bearer <admin token>)'
    else if (!rules.loopbackBound)
      context.adminDenied = 'bound to a non-loopback address: start the proxy with --admin-token to allow it'
  }
}
