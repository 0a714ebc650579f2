import { isLoopbackHost } from '../util/loopback.ts'
import { bearerOf, clientTokenName, isAdminToken, type Tokens } from './tokens.ts'
import type { ContextFilter } from './types.ts'

/**
 * SPEC §13 identity: a client is named by its token (a named token's name, `auth-token`,
 * `admin-token`), else by its IP address (`ip:127.0.0.1`); and whether it calls from this machine.
 */
export function identityFilter(tokens: Tokens): ContextFilter {
  return (facts, context) => {
    const address = facts.address()
    context.loopback = address !== undefined && isLoopbackHost(address.replace(/^::ffff:/, ''))
    const bearer = bearerOf(facts.headers)
    const name = bearer === undefined ? undefined : isAdminToken(bearer, tokens) ? 'admin-token' : clientTokenName(bearer, tokens)
    context.client = name ?? (address === undefined ? 'unknown' : `ip:${address}`)
  }
}
