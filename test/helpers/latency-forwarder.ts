/**
 * A stand-in for a remote provider: a loopback HTTP relay to a node that holds every request for
 * `latencyMs` first (as a network round trip would) and counts the calls it relays, by method.
 * Like a remote provider, it has no development-node methods (`anvil_`, `evm_`, `hardhat_`,
 * `ganache_`): it answers those -32601 itself, as hosted providers do.
 */
export type LatencyForwarder = {
  url: string
  /** Calls relayed since the last reset (a batch counts each of its calls), as `method params` lines, oldest first. */
  calls(): string[]
  /** HTTP requests relayed since the last reset (a batch is one). */
  requests(): number
  /** Of those, the JSON-RPC batches of more than one call. */
  batches(): number
  /** Of those, the ones that carried a call of `method`. */
  requestsWith(method: string): number
  /** Calls relayed since the last reset, counted by method, without those `skip` matches. */
  byMethod(skip?: (line: string) => boolean): Record<string, number>
  reset(): void
  stop(): Promise<void>
}

export function startLatencyForwarder(target: string, latencyMs: number): LatencyForwarder {
  const lines: string[] = []
  let requests = 0
  let batches = 0
  const requestsBy = new Map<string, number>()
  const server = Bun.serve({
    hostname: '127.0.0.1',
    port: 0,
    idleTimeout: 0,
    async fetch(request) {
      const body = await request.text()
      requests += 1
      const parsed = parseOrNull(body)
      if (Array.isArray(parsed) && parsed.length > 1) batches += 1
      const calls = [parsed].flat()
      for (const call of calls) lines.push(`${call?.method} ${JSON.stringify(call?.params ?? null)}`)
      for (const method of new Set(calls.map((call) => String(call?.method))))
        requestsBy.set(method, (requestsBy.get(method) ?? 0) + 1)
      // A long-running user (the demo keeps serving) must not grow without bound: the oldest go.
      if (lines.length > MAX_LINES) lines.splice(0, lines.length - MAX_LINES)
      await Bun.sleep(latencyMs)
      if (!calls.some(isDevCall)) return relay(target, body)
      const answers = await Promise.all(
        calls.map((call) =>
          isDevCall(call) ? lacking(call) : relay(target, JSON.stringify(call)).then((answer) => answer.json()),
        ),
      )
      return Response.json(Array.isArray(parsed) ? answers : answers[0])
    },
  })
  return {
    url: `http://127.0.0.1:${server.port}`,
    calls: () => [...lines],
    requests: () => requests,
    batches: () => batches,
    requestsWith: (method) => requestsBy.get(method) ?? 0,
    byMethod(skip = () => false) {
      const counts: Record<string, number> = {}
      for (const line of lines) {
        if (skip(line)) continue
        const method = line.slice(0, line.indexOf(' '))
        counts[method] = (counts[method] ?? 0) + 1
      }
      return counts
    },
    reset() {
      lines.length = 0
      requests = 0
      batches = 0
      requestsBy.clear()
    },
    stop: () => server.stop(true),
  }
}

const MAX_LINES = 100_000

const DEV_NAMESPACE = /^(anvil|evm|hardhat|ganache)_/

const isDevCall = (call: any) => typeof call?.method === 'string' && DEV_NAMESPACE.test(call.method)

const lacking = (call: any) => ({
  jsonrpc: '2.0',
  id: call.id ?? null,
  error: { code: -32601, message: `the method ${call.method} does not exist/is not available` },
})

async function relay(target: string, body: string): Promise<Response> {
  const answer = await fetch(target, { method: 'POST', headers: { 'content-type': 'application/json' }, body })
  return new Response(await answer.text(), { status: answer.status, headers: { 'content-type': 'application/json' } })
}

function parseOrNull(text: string): any {
  try {
    return JSON.parse(text)
  } catch {
    return null
  }
}
