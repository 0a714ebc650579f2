export {}

/**
 * A forwarder in front of a node that counts upstream requests per method and params, run as its
 * own process (Bun caps one process's concurrent fetches, so it must not share the load generator's).
 * Usage: bun bench/counting-forwarder.ts <target url>; POST relays, GET /count?key=<method+params json> reads.
 */
const target = process.argv[2] as string
const counts = new Map<string, number>()
const server = Bun.serve({
  hostname: '127.0.0.1',
  port: 0,
  async fetch(request) {
    if (request.method === 'GET')
      return new Response(String(counts.get(new URL(request.url).searchParams.get('key') ?? '') ?? 0))
    const body = await request.text()
    const call = JSON.parse(body) as { method: string; params?: unknown }
    const key = `${call.method}${JSON.stringify(call.params ?? [])}`
    counts.set(key, (counts.get(key) ?? 0) + 1)
    const answer = await fetch(target, { method: 'POST', headers: { 'content-type': 'application/json' }, body })
    return new Response(await answer.text(), { headers: { 'content-type': 'application/json' } })
  },
})
console.log(`listening on http://127.0.0.1:${server.port}/`)
