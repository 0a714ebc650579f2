import { timingSafeEqual } from 'node:crypto'
import type { CallContext } from '../management/method.ts'
import { hostOfHeader, isLoopbackHost } from '../util/loopback.ts'

export type AccessOptions = {
  /** The server is bound to a loopback address. */
  loopbackBound: boolean
  adminToken?: string
  authToken?: string
  /** Named client tokens (`auth-tokens` in the config file): each client is known by its name. */
  namedTokens?: readonly (readonly [name: string, token: string])[]
  /** Whether a browser origin may call the methods that change a node's state or use its keys (`--allowed-origins`). */
  originAllowed?: (origin: string) => boolean
}

/** A request refused before any call is read. */
export type Refusal = { status: number; message: string }

/** The access decision for one HTTP request: refused outright, or the context its calls run in. */
export type AccessDecision = { refusal: Refusal; context?: undefined } | { refusal?: undefined; context: CallContext }

/** SPEC §8: DNS-rebinding guard, client token, and who may call state-changing management methods. */
export function checkAccess(headers: Headers, options: AccessOptions): AccessDecision {
  const refusal = refusalOf(headers, options)
  return refusal ? { refusal } : { context: callContext(headers, options) }
}

/** Whether the request is refused outright (a non-loopback `Host` while bound to loopback, a missing client token). */
export function refusalOf(headers: Headers, options: AccessOptions): Refusal | undefined {
  const host = headers.get('host')
  if (options.loopbackBound && host !== null && !isLoopbackHostHeader(host)) {
    return { status: 403, message: `Host "${host}" is not allowed: the proxy only answers loopback names` }
  }
  if (options.authToken === undefined && (options.namedTokens?.length ?? 0) === 0) return undefined
  const bearer = bearerToken(headers.get('authorization'))
  if (bearer !== undefined && (clientTokenName(bearer, options) !== undefined || isAdminToken(bearer, options))) return undefined
  return { status: 401, message: 'Unauthorized: send Authorization: Bearer <auth token>' }
}

/** The context calls of an admitted request run in: who calls, and whether it may call the state-changing methods. */
export function callContext(headers: Headers, options: AccessOptions, address?: string): CallContext {
  const bearer = options.adminToken === undefined ? undefined : bearerToken(headers.get('authorization'))
  const origin = headers.get('origin')
  const originDenied =
    origin !== null && !(options.originAllowed?.(origin) ?? false)
      ? `the origin ${JSON.stringify(origin)} may not change the node's state or use its keys (allow it with --allowed-origins)`
      : undefined
  const isAdmin = bearer !== undefined && isAdminToken(bearer, options)
  return { adminDenied: adminDenial(headers, options, isAdmin), originDenied, ...identify(headers, options, isAdmin, address) }
}

/**
 * SPEC §13 identity: a client is named by its token (`admin-token`, `auth-token`), else by its IP
 * address; and whether it calls from this machine.
 */
function identify(headers: Headers, options: AccessOptions, isAdmin: boolean, address: string | undefined): { client: string; loopback: boolean } {
  const loopback = address !== undefined && isLoopbackHost(address.replace(/^::ffff:/, ''))
  if (isAdmin) return { client: 'admin-token', loopback }
  const bearer = bearerToken(headers.get('authorization'))
  const name = bearer === undefined ? undefined : clientTokenName(bearer, options)
  if (name !== undefined) return { client: name, loopback }
  return { client: address === undefined ? 'unknown' : `ip:${address}`, loopback }
}

/** The name of the client token `bearer` is (`auth-token` for the unnamed one); every token compared in constant time. */
function clientTokenName(bearer: string, options: AccessOptions): string | undefined {
  let found: string | undefined
  // Compared against every token, whichever matches: the time taken says nothing about which.
  for (const [name, token] of options.namedTokens ?? []) if (sameSecret(bearer, token)) found ??= name
  if (options.authToken !== undefined && sameSecret(bearer, options.authToken)) found ??= 'auth-token'
  return found
}

function isAdminToken(bearer: string, options: AccessOptions): boolean {
  return options.adminToken !== undefined && sameSecret(bearer, options.adminToken)
}

const hostVerdicts = new Map<string, boolean>()

/** Whether a `Host` header names this machine; remembered per distinct value (a handful in practice). */
function isLoopbackHostHeader(host: string): boolean {
  const known = hostVerdicts.get(host)
  if (known !== undefined) return known
  const verdict = isLoopbackHost(hostOfHeader(host))
  if (hostVerdicts.size < 256) hostVerdicts.set(host, verdict)
  return verdict
}

function adminDenial(headers: Headers, options: AccessOptions, isAdmin: boolean): string | undefined {
  if (headers.has('origin')) return 'not allowed from a browser (the request carries an Origin header)'
  if (isAdmin) return undefined
  if (options.adminToken !== undefined) return 'the admin token is required (Authorization: Bearer <admin token>)'
  if (!options.loopbackBound) return 'bound to a non-loopback address: start the proxy with --admin-token to allow it'
  return undefined
}

function bearerToken(header: string | null): string | undefined {
  const match = header?.match(/^Bearer\s+(\S+)\s*$/i)
  return match?.[1]
}

function sameSecret(given: string, expected: string): boolean {
  const a = new TextEncoder().encode(given)
  const b = new TextEncoder().encode(expected)
  return a.length === b.length && timingSafeEqual(a, b)
}
