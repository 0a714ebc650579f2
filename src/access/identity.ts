import { isLoopbackHost } from '../util/loopback.ts'
import { type TokenCheck, tokenOf } from './tokens.ts'
import type { ContextRule } from './types.ts'

/**
 * SPEC §13 identity: a client is named by its token (a named token's name, `auth-token`,
 * `admin-token`), else by its IP address (`ip:127.0.0.1`); and whether it calls from this machine.
 */
export function identityRule(tokens: TokenCheck): ContextRule {
  return (facts, context) => {
    const address = facts.address()
    context.loopback = address !== undefined && isLoopbackHost(address.replace(/^::ffff:/, ''))
    const token = tokenOf(facts.headers)
    const name = token === undefined ? undefined : tokens.match(token)?.name
    context.client = name ?? (address === undefined ? 'unknown' : `ip:${address}`)
  }
}
