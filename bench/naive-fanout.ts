export {}

/**
 * The baseline for the fan-out benchmark: the least a Bun WebSocket fan-out can do. One upstream
 * `newHeads` subscription; each client's `eth_subscribe` gets an id, and every upstream event is
 * sent to every client with that id. No follower, no checks, no limits.
 * Usage: bun bench/naive-fanout.ts <upstream ws url>; prints "listening on http://127.0.0.1:<port>/".
 */
const upstream = new WebSocket(process.argv[2] as string)
const clients = new Map<Bun.ServerWebSocket<unknown>, string>()
let next = 1
upstream.onopen = () => upstream.send('{"jsonrpc":"2.0","id":1,"method":"eth_subscribe","params":["newHeads"]}')
upstream.onmessage = (event) => {
  const message = JSON.parse(String(event.data))
  if (message.method !== 'eth_subscription') return
  const result = JSON.stringify(message.params.result)
  for (const [client, id] of clients)
    client.send(`{"jsonrpc":"2.0","method":"eth_subscription","params":{"subscription":"${id}","result":${result}}}`)
}
const server = Bun.serve({
  hostname: '127.0.0.1',
  port: 0,
  fetch(request, self) {
    return self.upgrade(request, { data: undefined }) ? undefined : new Response('not a websocket', { status: 400 })
  },
  websocket: {
    message(ws, message) {
      const call = JSON.parse(String(message))
      const id = `0x${(next++).toString(16).padStart(32, '0')}`
      clients.set(ws, id)
      ws.send(JSON.stringify({ jsonrpc: '2.0', id: call.id, result: id }))
    },
    close(ws) {
      clients.delete(ws)
    },
  },
})
console.log(`listening on http://127.0.0.1:${server.port}/`)
