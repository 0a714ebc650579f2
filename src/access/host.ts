import { hostOfHeader, isLoopbackHost } from '../util/loopback.ts'
import type { RefusalRule } from './types.ts'

/** SPEC §8, DNS rebinding: bound to loopback, a request whose `Host` is not a loopback name is refused (403). */
export function hostRule(loopbackBound: boolean): RefusalRule {
  const verdicts = new Map<string, boolean>()
  /** Remembered per distinct value (a handful in practice). */
  const isLoopbackHostHeader = (host: string) => {
    const known = verdicts.get(host)
    if (known !== undefined) return known
    const verdict = isLoopbackHost(hostOfHeader(host))
    if (verdicts.size < 256) verdicts.set(host, verdict)
    return verdict
  }
  return ({ headers }) => {
    const host = headers.get('host')
    if (!loopbackBound || host === null || isLoopbackHostHeader(host)) return undefined
    return { status: 403, message: `Host "${host}" is not allowed: the proxy only answers loopback names` }
  }
}
