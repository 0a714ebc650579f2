import type { ServerOptions } from '../config/schema.ts'
import type { TlsFiles } from '../config/tls.ts'
import { platform } from '../platform/index.ts'
import type { createApp } from '../transport/http/app.ts'

/** Bind the app on the configured address (HTTP and WebSocket on one port, TLS when given); its URL as clients write it. */
export async function serveApp(
  options: Pick<ServerOptions, 'host' | 'port'>,
  app: ReturnType<typeof createApp>,
  tls: TlsFiles | undefined,
) {
  const server = await platform.serve({
    hostname: options.host,
    port: options.port,
    fetch: app.fetch,
    rootPost: app.rootPost,
    websocket: app.websocket,
    tls,
  })
  const host = server.hostname.includes(':') ? `[${server.hostname}]` : server.hostname
  return { server, url: `${tls === undefined ? 'http' : 'https'}://${host}:${server.port}` }
}
