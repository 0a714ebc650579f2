export {}

/**
 * The streaming benchmarks of SPEC §10 and §12, run as their own process (the load side):
 *   bun bench/stream-load.ts fanout <anvil url> <cache dir> <clients> <blocks> [taskset core]
 *   bun bench/stream-load.ts chaos  <anvil url> <cache dir> <clients> <blocks> <restarts> [taskset core]
 * It starts WebSocket forwarders in front of anvil (counting upstream subscriptions; for chaos, two
 * that are stopped and started again), the proxy (pinned to the core given) with them as its
 * `--ws-urls`, connects the clients, mines the blocks and prints one JSON line with the figures.
 */

const ROOT = new URL('..', import.meta.url).pathname
const [mode, anvilUrl, cacheDir, clientsArg, blocksArg, ...rest] = process.argv.slice(2) as string[]
const clients = Number(clientsArg)
const blocks = Number(blocksArg)
const restarts = mode === 'chaos' ? Number(rest.shift()) : 0
const core = rest[0]
const anvilWs = (anvilUrl as string).replace(/^http/, 'ws')

/** A WebSocket relay to anvil on a fixed port, which can be stopped (every connection cut) and started again. */
function relay() {
  let server: ReturnType<typeof Bun.serve<{ upstream: WebSocket; pending: string[] }>> | undefined
  let port = 0
  const stats = { subscriptions: 0, upgrades: 0 }
  const start = () => {
    server = Bun.serve<{ upstream: WebSocket; pending: string[] }>({
      hostname: '127.0.0.1',
      port,
      fetch(request, self) {
        stats.upgrades += 1
        if (self.upgrade(request, { data: { upstream: new WebSocket(anvilWs), pending: [] } })) return undefined
        return new Response('not a websocket', { status: 400 })
      },
      websocket: {
        open(ws) {
          const { upstream } = ws.data
          upstream.onopen = () => {
            for (const text of ws.data.pending.splice(0)) upstream.send(text)
          }
          upstream.onmessage = (event) => ws.send(String(event.data))
          upstream.onclose = () => ws.close()
        },
        message(ws, message) {
          const text = String(message)
          if (text.includes('"eth_subscribe"')) stats.subscriptions += 1
          if (ws.data.upstream.readyState === WebSocket.OPEN) ws.data.upstream.send(text)
          else ws.data.pending.push(text)
        },
        close(ws) {
          ws.data.upstream.close()
        },
      },
    })
    port = server.port ?? port
  }
  start()
  return {
    url: () => `ws://127.0.0.1:${port}`,
    stats,
    stop: () => server?.stop(true),
    restart() {
      server?.stop(true)
      start()
    },
  }
}

async function rpc(method: string, params: unknown[] = []): Promise<any> {
  const response = await fetch(anvilUrl as string, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ jsonrpc: '2.0', id: 1, method, params }),
  })
  return ((await response.json()) as { result: unknown }).result
}

async function startProxy(wsUrls: string[]) {
  const command = [
    process.execPath,
    `${ROOT}src/main.ts`,
    'server',
    '--port',
    '0',
    '--rpc-urls',
    anvilUrl as string,
    '--ws-urls',
    wsUrls.join(','),
    '--cache-dir',
    cacheDir as string,
  ]
  const child = Bun.spawn(core ? ['taskset', '-c', core, ...command] : command, { stdout: 'pipe', stderr: 'ignore' })
  const reader = (child.stdout as ReadableStream<Uint8Array>).getReader()
  let text = ''
  while (!/listening on (http:\/\/\S+)/.test(text)) {
    const { value, done } = await reader.read()
    if (done) throw new Error(`the proxy exited: ${text}`)
    text += new TextDecoder().decode(value)
  }
  void (async () => {
    while (!(await reader.read()).done) {}
  })()
  return { url: (text.match(/listening on (http:\/\/\S+)/) as RegExpMatchArray)[1] as string, child }
}

/** One subscriber: the block numbers it got, in order, and when it got each. */
type Subscriber = { heads: number[]; receivedAt: Map<number, number>; socket: WebSocket }

async function subscribe(url: string): Promise<Subscriber> {
  const socket = new WebSocket(url.replace(/^http/, 'ws'))
  const subscriber: Subscriber = { heads: [], receivedAt: new Map(), socket }
  await new Promise<void>((resolve, reject) => {
    socket.onopen = () => resolve()
    socket.onerror = () => reject(new Error('cannot connect'))
  })
  const confirmed = Promise.withResolvers<void>()
  // The receipt is timed first; the block number is read without parsing the whole header.
  socket.onmessage = (event) => {
    const receivedAt = performance.now()
    const text = String(event.data)
    if (!text.includes('"eth_subscription"')) {
      if (JSON.parse(text).id === 1) confirmed.resolve()
      return
    }
    const block = Number(text.match(/"number":"(0x[0-9a-f]+)"/)?.[1])
    subscriber.heads.push(block)
    if (!subscriber.receivedAt.has(block)) subscriber.receivedAt.set(block, receivedAt)
  }
  socket.send(JSON.stringify({ jsonrpc: '2.0', id: 1, method: 'eth_subscribe', params: ['newHeads'] }))
  await confirmed.promise
  return subscriber
}

async function until(condition: () => boolean, timeoutMs: number) {
  const deadline = performance.now() + timeoutMs
  while (!condition()) {
    if (performance.now() > deadline) return false
    await Bun.sleep(5)
  }
  return true
}

/** Per client: blocks of `from..to` never received, received more than once, and received out of order. */
function judge(subscriber: Subscriber, from: number, to: number) {
  const wanted = subscriber.heads.filter((block) => block >= from && block <= to)
  const distinct = new Set(wanted)
  let outOfOrder = 0
  for (let index = 1; index < wanted.length; index++)
    if ((wanted[index] as number) <= (wanted[index - 1] as number)) outOfOrder += 1
  return { missing: to - from + 1 - distinct.size, duplicates: wanted.length - distinct.size, outOfOrder }
}

const percentile = (values: number[], p: number) => {
  const sorted = [...values].sort((a, b) => a - b)
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))] ?? Number.NaN
}

/** Start `bench/naive-fanout.ts` (pinned like the proxy) in front of `upstreamWs`. */
async function startNaive(upstreamWs: string) {
  const command = [process.execPath, `${ROOT}bench/naive-fanout.ts`, upstreamWs]
  const child = Bun.spawn(core ? ['taskset', '-c', core, ...command] : command, { stdout: 'pipe', stderr: 'ignore' })
  const reader = (child.stdout as ReadableStream<Uint8Array>).getReader()
  const { value } = await reader.read()
  const match = new TextDecoder().decode(value).match(/listening on (http:\/\/\S+)/)
  if (match === null) throw new Error('the naive fan-out did not start')
  return { url: match[1] as string, child }
}

/** Upstream sockets up at the proxy now (undefined for the naive fan-out, which has no edb_streams). */
async function openFeeds(url: string): Promise<number | undefined> {
  const reply = (await (
    await fetch(url, { method: 'POST', body: '{"jsonrpc":"2.0","id":1,"method":"edb_streams"}' })
  )
    .json()
    .catch(() => undefined)) as any
  return reply?.result?.sources?.[0]?.sockets?.filter((socket: { up: boolean }) => socket.up).length
}

/** The delay from anvil's event (seen by a direct subscriber here) to the last of `clients` subscribers of `url`. */
async function fanOut(url: string) {
  const direct = await subscribe(anvilUrl as string)
  const subscribers: Subscriber[] = []
  for (let index = 0; index < clients; index += 100) {
    subscribers.push(
      ...(await Promise.all(Array.from({ length: Math.min(100, clients - index) }, () => subscribe(url)))),
    )
  }
  const start = Number(await rpc('eth_blockNumber')) + 1
  for (let block = 0; block < blocks; block++) {
    await rpc('anvil_mine', ['0x1'])
    await Bun.sleep(50)
  }
  const last = start + blocks - 1
  await until(() => subscribers.every((subscriber) => subscriber.receivedAt.has(last)), 10_000)
  const feedsOpen = await openFeeds(url)
  const delays: number[] = []
  for (let block = start; block <= last; block++) {
    const upstreamAt = direct.receivedAt.get(block)
    const lastClientAt = Math.max(
      ...subscribers.map((subscriber) => subscriber.receivedAt.get(block) ?? Number.POSITIVE_INFINITY),
    )
    if (upstreamAt !== undefined && Number.isFinite(lastClientAt)) delays.push(lastClientAt - upstreamAt)
  }
  for (const subscriber of [direct, ...subscribers]) subscriber.socket.close()
  const verdicts = subscribers.map((subscriber) => judge(subscriber, start, last))
  return {
    feedsOpen,
    p50Ms: percentile(delays, 50),
    p99Ms: percentile(delays, 99),
    missing: verdicts.reduce((sum, verdict) => sum + verdict.missing, 0),
    duplicates: verdicts.reduce((sum, verdict) => sum + verdict.duplicates, 0),
    outOfOrder: verdicts.reduce((sum, verdict) => sum + verdict.outOfOrder, 0),
  }
}

if (mode === 'fanout') {
  const feed = relay()
  const proxy = await startProxy([feed.url()])
  const naive = await startNaive(feed.url())
  // Interleaved: proxy, naive, proxy, naive, proxy, naive.
  const runs: { proxy: Awaited<ReturnType<typeof fanOut>>[]; naive: Awaited<ReturnType<typeof fanOut>>[] } = {
    proxy: [],
    naive: [],
  }
  for (let round = 0; round < 3; round++) {
    runs.proxy.push(await fanOut(proxy.url))
    runs.naive.push(await fanOut(naive.url))
  }
  console.log(JSON.stringify({ clients, blocks, runs }))
  proxy.child.kill()
  naive.child.kill()
  await proxy.child.exited
  feed.stop()
} else if (mode === 'chaos') {
  const feeds = [relay(), relay()]
  const proxy = await startProxy(feeds.map((feed) => feed.url()))
  const subscribers = await Promise.all(Array.from({ length: clients }, () => subscribe(proxy.url)))
  const start = Number(await rpc('eth_blockNumber')) + 1
  const every = Math.max(1, Math.floor(blocks / restarts))
  let restarted = 0
  for (let block = 0; block < blocks; block++) {
    if (block % every === 0 && restarted < restarts) {
      ;(feeds[restarted % 2] as ReturnType<typeof relay>).restart()
      restarted += 1
    }
    await rpc('anvil_mine', ['0x1'])
    await Bun.sleep(10)
  }
  const last = start + blocks - 1
  await until(() => subscribers.every((subscriber) => subscriber.receivedAt.has(last)), 15_000)
  const verdicts = subscribers.map((subscriber) => judge(subscriber, start, last))
  const streams = (await (
    await fetch(proxy.url, { method: 'POST', body: '{"jsonrpc":"2.0","id":1,"method":"edb_streams"}' })
  ).json()) as any
  console.log(
    JSON.stringify({
      clients,
      blocks,
      restarts: restarted,
      counters: streams.result.counters,
      missing: verdicts.map((verdict) => verdict.missing),
      duplicates: verdicts.map((verdict) => verdict.duplicates),
      outOfOrder: verdicts.map((verdict) => verdict.outOfOrder),
    }),
  )
  for (const subscriber of subscribers) subscriber.socket.close()
  proxy.child.kill()
  await proxy.child.exited
  for (const feed of feeds) feed.stop()
} else {
  console.error(
    'usage: bun bench/stream-load.ts fanout|chaos <anvil url> <cache dir> <clients> <blocks> [restarts] [core]',
  )
  process.exit(2)
}
