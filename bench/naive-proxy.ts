/**
 * The "naive Bun proxy" of SPEC §10, for reference: a Map keyed on the body and `fetch()`, with
 * eth_blockNumber and calls at "latest" never cached. Prints "listening on <url>".
 * Usage: bun bench/naive-proxy.ts <upstream url>
 */
const upstream = process.argv[2] as string
const cache = new Map<string, string>()
const HEADERS = { 'content-type': 'application/json' }
const server = Bun.serve({
  hostname: '127.0.0.1',
  port: 0,
  async fetch(request) {
    const body = await request.text()
    const cached = cache.get(body)
    if (cached !== undefined) return new Response(cached, { headers: HEADERS })
    const answer = await (await fetch(upstream, { method: 'POST', headers: HEADERS, body })).text()
    if (!body.includes('"eth_blockNumber"') && !body.includes('"latest"')) cache.set(body, answer)
    return new Response(answer, { headers: HEADERS })
  },
})
console.log(`listening on ${server.url}`)

export {}
