import { createHash, timingSafeEqual } from 'node:crypto'

/** The tokens the proxy knows (SPEC §8, §13). */
export type Tokens = {
  adminToken?: string
  authToken?: string
  /** Named client tokens (`auth-tokens` in the config file). */
  namedTokens?: readonly (readonly [name: string, token: string])[]
}

/** The bearer token of an `Authorization` header, if any. */
export function bearerOf(headers: Headers): string | undefined {
  return headers.get('authorization')?.match(/^Bearer\s+(\S+)\s*$/i)?.[1]
}

/** The name of the client token `bearer` is (`auth-token` for the unnamed one); every token compared in constant time. */
export function clientTokenName(bearer: string, tokens: Tokens): string | undefined {
  let found: string | undefined
  // Compared against every token, whichever matches: the time taken says nothing about which.
  for (const [name, token] of tokens.namedTokens ?? []) if (sameSecret(bearer, token)) found ??= name
  if (tokens.authToken !== undefined && sameSecret(bearer, tokens.authToken)) found ??= 'auth-token'
  return found
}

export function isAdminToken(bearer: string, tokens: Tokens): boolean {
  return tokens.adminToken !== undefined && sameSecret(bearer, tokens.adminToken)
}

/** Whether client tokens are configured at all (then every call must carry one). */
export function clientTokensRequired(tokens: Tokens): boolean {
  return tokens.authToken !== undefined || (tokens.namedTokens?.length ?? 0) > 0
}

/** Constant time whatever the lengths: fixed-size digests are compared, never the texts. */
function sameSecret(given: string, expected: string): boolean {
  return timingSafeEqual(createHash('sha256').update(given).digest(), createHash('sha256').update(expected).digest())
}
