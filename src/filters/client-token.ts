import { bearerOf, clientTokenName, clientTokensRequired, isAdminToken, type Tokens } from './tokens.ts'
import type { RefusalFilter } from './types.ts'

/** SPEC §8, §13: with client tokens configured, a request without one of them (or the admin token) is refused (401). */
export function clientTokenFilter(tokens: Tokens): RefusalFilter {
  const required = clientTokensRequired(tokens)
  return ({ headers }) => {
    if (!required) return undefined
    const bearer = bearerOf(headers)
    if (bearer !== undefined && (clientTokenName(bearer, tokens) !== undefined || isAdminToken(bearer, tokens))) return undefined
    return { status: 401, message: 'Unauthorized: send Authorization: Bearer <auth token>' }
  }
}
