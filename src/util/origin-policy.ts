import { isLoopbackHost } from './loopback.ts'

/**
 * `--allowed-origins`: which browser origins may call the methods that change a node's state or
 * use its keys (SPEC §8). Entries: `loopback` (any origin whose host is this machine, any port),
 * `*` (any origin), or `scheme://host[:port]` where the port may be `*` and the host may start with
 * `*.` (any subdomain).
 */
export type OriginRule =
  | { kind: 'loopback' }
  | { kind: 'any' }
  | { kind: 'pattern'; protocol: string; host: string; subdomains: boolean; port: string }

const PATTERN = /^(https?):\/\/(\*\.)?(\[[0-9a-f:]+\]|[a-z0-9.-]+)(?::(\d{1,5}|\*))?$/i

/** One entry, or undefined when it is none of the accepted forms. */
export function parseOriginRule(entry: string): OriginRule | undefined {
  if (entry === 'loopback') return { kind: 'loopback' }
  if (entry === '*') return { kind: 'any' }
  const match = PATTERN.exec(entry)
  if (match === null) return undefined
  const [, protocol, star, host, port] = match as unknown as [
    string,
    string,
    string | undefined,
    string,
    string | undefined,
  ]
  if (port !== undefined && port !== '*' && Number(port) > 65_535) return undefined
  return {
    kind: 'pattern',
    protocol: `${protocol.toLowerCase()}:`,
    host: host.toLowerCase(),
    subdomains: star !== undefined,
    port: port ?? '',
  }
}

/** Compile the allowed origins once; the check runs only for guarded methods called with an `Origin`. */
export function createOriginPolicy(entries: readonly string[]): (origin: string) => boolean {
  const rules = entries.map((entry) => {
    const rule = parseOriginRule(entry)
    if (rule === undefined) throw new Error(`not an origin rule: ${JSON.stringify(entry)}`)
    return rule
  })
  return (origin) => {
    let url: URL
    try {
      url = new URL(origin)
    } catch {
      return false
    }
    return rules.some((rule) => matches(rule, url))
  }
}

function matches(rule: OriginRule, url: URL): boolean {
  if (rule.kind === 'any') return true
  if (url.protocol !== 'http:' && url.protocol !== 'https:') return false
  const host = url.hostname.toLowerCase()
  if (rule.kind === 'loopback') return isLoopbackHost(host)
  if (url.protocol !== rule.protocol) return false
  if (rule.port !== '*' && url.port !== rule.port) return false
  return host === rule.host || (rule.subdomains && host.endsWith(`.${rule.host}`))
}
