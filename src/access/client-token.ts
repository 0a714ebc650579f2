import { type TokenCheck, tokenOf } from './tokens.ts'
import type { RefusalRule } from './types.ts'

/**
 * SPEC §8, §13: with client tokens configured, a request without one of them (or the admin token),
 * as a Bearer token or Basic auth's password, is refused (401); a malformed header is no token.
 */
export function clientTokenRule(tokens: TokenCheck): RefusalRule {
  return ({ headers }) => {
    if (!tokens.clientTokensRequired) return undefined
    const token = tokenOf(headers)
    if (token !== undefined && tokens.match(token) !== undefined) return undefined
    return { status: 401, message: 'Unauthorized: send Authorization: Bearer <auth token>' }
  }
}
