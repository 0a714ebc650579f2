import { createHash, timingSafeEqual } from 'node:crypto'

/** The tokens the proxy knows (SPEC §8, §13). */
export type Tokens = {
  adminToken?: string
  authToken?: string
  /** Named client tokens (`auth-tokens` in the config file). */
  namedTokens?: readonly (readonly [name: string, token: string])[]
}

/** Who a token names: the admin, a client (by its name; `auth-token` for the unnamed one), or nobody. */
export type TokenMatch = { kind: 'admin'; name: 'admin-token' } | { kind: 'client'; name: string } | undefined

/** The configured tokens, digested once at start-up; every request's token is checked against all of them. */
export type TokenCheck = {
  /** Whether client tokens are configured at all (then every call must carry one, or the admin token). */
  clientTokensRequired: boolean
  /** Whether an admin token is configured. */
  adminConfigured: boolean
  /** Who `given` names, compared in constant time against every token, whichever matches. */
  match(given: string): TokenMatch
}

/** Digest the tokens once, so a request costs one hash of its own token and a constant-time compare per token. */
export function createTokenCheck(tokens: Tokens): TokenCheck {
  const clients: [match: TokenMatch, digest: Buffer][] = (tokens.namedTokens ?? []).map(([name, token]) => [
    { kind: 'client', name },
    digestOf(token),
  ])
  if (tokens.authToken !== undefined) clients.push([{ kind: 'client', name: 'auth-token' }, digestOf(tokens.authToken)])
  const admin = tokens.adminToken === undefined ? undefined : digestOf(tokens.adminToken)
  return {
    clientTokensRequired: clients.length > 0,
    adminConfigured: admin !== undefined,
    match(given) {
      const digest = digestOf(given)
      // Compared against every token, whichever matches: the time taken says nothing about which.
      let found: TokenMatch = admin !== undefined && timingSafeEqual(digest, admin) ? ADMIN : undefined
      for (const [match, expected] of clients) if (timingSafeEqual(digest, expected)) found ??= match
      return found
    },
  }
}

/**
 * The token a request carries: `Authorization: Bearer <token>`, or the password of HTTP Basic auth
 * (any user name), which is how a token in a URL's user-info arrives (`http://user:TOKEN@host`:
 * Hardhat, curl `-u`, Bun's fetch and WebSocket, Node's http). A malformed Basic header (not
 * base64, no colon) carries none, so it is refused like a wrong token.
 */
export function tokenOf(headers: Headers): string | undefined {
  const authorization = headers.get('authorization')
  if (authorization === null) return undefined
  const bearer = authorization.match(BEARER)?.[1]
  if (bearer !== undefined) return bearer
  const basic = authorization.match(BASIC)?.[1]
  return basic === undefined ? undefined : basicPassword(basic)
}

/** RFC 7617: base64 of `user-id ":" password`; the user id holds no colon, the password may. */
function basicPassword(encoded: string): string | undefined {
  if (!STRICT_BASE64.test(encoded)) return undefined
  const decoded = Buffer.from(encoded, 'base64').toString('utf8')
  const colon = decoded.indexOf(':')
  return colon === -1 ? undefined : decoded.slice(colon + 1)
}

const BEARER = /^Bearer\s+(\S+)\s*$/i
const BASIC = /^Basic\s+(\S+)\s*$/i
/** Padded base64 (RFC 4648 §4) only: Node's decoder would skip stray characters instead of refusing them. */
const STRICT_BASE64 = /^(?:[A-Za-z0-9+/]{4})*(?:[A-Za-z0-9+/]{2}==|[A-Za-z0-9+/]{3}=)?$/
const ADMIN: TokenMatch = { kind: 'admin', name: 'admin-token' }

/** Fixed-size digests are compared, never the texts: constant time whatever the lengths. */
function digestOf(secret: string): Buffer {
  return createHash('sha256').update(secret).digest()
}
