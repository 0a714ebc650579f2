/**
 * The baselines of SPEC §10, one per process: `const` (A) answers a constant JSON-RPC response
 * without reading the body, the runtime's ceiling; `body` (A_body) reads the body first, the least
 * any proxy must do. Listens on 127.0.0.1, port 0, and prints "listening on <url>".
 * Usage: bun bench/baseline-server.ts const|body
 */
const ANSWER = '{"jsonrpc":"2.0","id":1,"result":"0x7a69"}'
const HEADERS = { 'content-type': 'application/json' }

const mode = process.argv[2]
if (mode !== 'const' && mode !== 'body') {
  console.error('usage: bun bench/baseline-server.ts const|body')
  process.exit(2)
}

const server = Bun.serve({
  hostname: '127.0.0.1',
  port: 0,
  fetch:
    mode === 'const'
      ? () => new Response(ANSWER, { headers: HEADERS })
      : async (request) => {
          await request.text()
          return new Response(ANSWER, { headers: HEADERS })
        },
})
console.log(`listening on ${server.url}`)
