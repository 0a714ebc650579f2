/** A pass-through in front of a real node that counts the calls it forwards, by method. */
export type CountingForwarder = {
  url: string
  /** Calls forwarded for `method` (with exactly `params`, when given; batches counted per call). */
  count(method: string, params?: unknown[]): number
  total(): number
  reset(): void
  stop(): Promise<void>
}

/** Start a counting forwarder on port 0 that relays every body to `target` unchanged. */
export function startCountingForwarder(target: string): CountingForwarder {
  let calls: { method: string; params: string }[] = []
  const server = Bun.serve({
    hostname: '127.0.0.1',
    port: 0,
    idleTimeout: 0,
    async fetch(request) {
      const body = await request.text()
      const parsed = JSON.parse(body)
      for (const call of Array.isArray(parsed) ? parsed : [parsed]) calls.push({ method: call.method, params: JSON.stringify(call.params ?? []) })
      const answer = await fetch(target, { method: 'POST', headers: { 'content-type': 'application/json' }, body })
      return new Response(await answer.text(), { status: answer.status, headers: { 'content-type': 'application/json' } })
    },
  })
  return {
    url: `http://127.0.0.1:${server.port}`,
    count: (method, params) =>
      calls.filter((call) => call.method === method && (params === undefined || call.params === JSON.stringify(params))).length,
    total: () => calls.length,
    reset: () => {
      calls = []
    },
    stop: () => server.stop(true),
  }
}
