import type { ServerOptions } from '../config/schema.ts'
import { log } from '../util/log.ts'
import { isLoopbackHost } from '../util/loopback.ts'

/**
 * What the proxy says once it listens: a warning when it is reachable beyond this machine without
 * tokens, then the line a supervisor waits for. Said once signals are handled, so whoever waits for
 * it may stop the proxy at once.
 */
export function announceListening(
  options: Pick<ServerOptions, 'host' | 'authToken' | 'authTokens' | 'adminToken'>,
  url: string,
  providers: number,
): void {
  if (!isLoopbackHost(options.host)) {
    const gaps = [
      options.authToken === undefined && Object.keys(options.authTokens ?? {}).length === 0
        ? 'any host that reaches it may make data calls (set --auth-token)'
        : undefined,
      options.adminToken === undefined
        ? 'edb_shutdown, edb_deleteCache and edb_register are refused until --admin-token is set'
        : undefined,
    ].filter((part) => part !== undefined)
    if (gaps.length > 0) log.warn(`bound to ${options.host}, beyond this machine: ${gaps.join('; ')}`)
  }
  log.info(`listening on ${url} (${providers === 0 ? 'cache-only mode' : `${providers} upstream providers`})`)
}
