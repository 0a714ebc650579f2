/** A loopback port that was free a moment ago (bound then released): nothing listens on it. */
export function freePort(): number {
  const server = Bun.serve({ hostname: '127.0.0.1', port: 0, fetch: () => new Response() })
  const port = server.port as number
  server.stop(true)
  return port
}
