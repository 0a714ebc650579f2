/**
 * Self-contained demo: a local anvil (from the npm registry) with a short history and a busy block,
 * behind a forwarder that adds 30 ms to every request (as a remote provider would) and counts them;
 * the proxy on 127.0.0.1:8546 (or $EDB_PROXY_PORT) in front of it. The same historical reads run
 * twice, cold then warm, with upstream calls, time and x-cache printed; then `cast run` of a busy
 * block's transaction direct, then through the proxy a first and a second time (the prefetch); then
 * a few example calls, and it keeps serving until Ctrl-C.
 */
import { join } from 'node:path'
import { rpc, startAnvil } from '../test/helpers/anvil.ts'
import { castRunTx, seedBusyBlock, targetIndex } from '../test/helpers/busy-block.ts'
import { startLatencyForwarder } from '../test/helpers/latency-forwarder.ts'
import { readLine } from '../test/helpers/lines.ts'

const port = process.env.EDB_PROXY_PORT ?? '8546'
const LATENCY_MS = 30
const SENDER = '0xf39Fd6e51aad88F6F4ce6aB8827279cffFb92266'
const anvil = await startAnvil()
// A short history: a few transfers, then enough blocks for them to be final (anvil: head - 64).
for (let index = 1; index <= 5; index++) {
  await rpc(anvil.url, 'eth_sendTransaction', [
    { from: SENDER, to: `0x${index.toString(16).padStart(40, '0')}`, value: '0x1' },
  ])
}
await rpc(anvil.url, 'anvil_mine', ['0x60'])
// A busy block (40 transactions, 12 slots and 3 accounts each), final; then the head moves every 2 s.
const busy = await seedBusyBlock(anvil.url)
await rpc(anvil.url, 'evm_setIntervalMining', [2])

const forwarder = startLatencyForwarder(anvil.url, LATENCY_MS)
/** What the demo's own reads cost upstream (the proxy's head tracking is not counted): balances and nonces at a block, blocks with their transactions. */
const demoReads = () =>
  forwarder
    .calls()
    .filter(
      (line) =>
        line.startsWith('eth_getBalance ') ||
        line.startsWith('eth_getTransactionCount ') ||
        /^eth_getBlockByNumber \["0x[0-9a-f]+",true\]$/.test(line),
    ).length
const upstream = forwarder.url
const proxy = Bun.spawn(
  [process.execPath, join(import.meta.dir, '../src/main.ts'), 'server', '--port', port, '--rpc-urls', upstream],
  {
    stdout: 'pipe',
    stderr: 'inherit',
  },
)
let stopping: Promise<void> | undefined
/** Stop everything once; both children are told at once (stop() signals synchronously), so an error in the demo's own calls while they stop cannot leave anvil behind. */
const stop = (code: number) =>
  (stopping ??= (async () => {
    proxy.kill('SIGTERM')
    await Promise.all([anvil.stop(), proxy.exited])
    await forwarder.stop()
    process.exit(code)
  })())
process.on('SIGINT', () => void stop(0))
process.on('SIGTERM', () => void stop(0))
// Whatever ends the demo (an exception included), anvil and the proxy do not outlive it.
process.on('exit', () => {
  proxy.kill('SIGTERM')
  void anvil.stop()
})

const ready = await readLine(proxy.stdout, /listening on (http:\/\/\S+)/, 15_000, {
  push: (text: string) => process.stdout.write(text),
}).catch(() => undefined)
if (ready === undefined) {
  console.error(`the proxy did not start (is port ${port} free?)`)
  await stop(1)
}
const url = ready![1]!
console.log(
  `anvil:    ${anvil.url}\nupstream: ${upstream} (anvil + ${LATENCY_MS} ms a request, like a remote provider)\nproxy:    ${url}\n`,
)

/** Historical reads a debugger makes: blocks with their transactions, receipts, balances at those blocks. */
const reads: [string, unknown[]][] = []
for (let block = 1; block <= 5; block++) {
  reads.push(['eth_getBlockByNumber', [`0x${block.toString(16)}`, true]])
  reads.push(['eth_getBalance', [SENDER, `0x${block.toString(16)}`]])
  reads.push(['eth_getTransactionCount', [SENDER, `0x${block.toString(16)}`]])
}
const replay = async () => {
  forwarder.reset()
  const started = performance.now()
  const caches: string[] = []
  for (const [method, params] of reads) {
    const response = await fetch(url, {
      method: 'POST',
      body: JSON.stringify({ jsonrpc: '2.0', id: 1, method, params }),
    })
    await response.text()
    caches.push(response.headers.get('x-cache') ?? '?')
  }
  const tally = Object.entries(Object.groupBy(caches, (cache) => cache)).map(
    ([cache, list]) => `${list?.length} ${cache}`,
  )
  return { ms: performance.now() - started, calls: demoReads(), tally: tally.join(', ') }
}
const cold = await replay()
const warm = await replay()
console.log(`The same ${reads.length} historical reads, twice:`)
console.log(
  `  cold: ${String(cold.calls).padStart(3)} upstream calls  ${cold.ms.toFixed(0).padStart(5)} ms   x-cache: ${cold.tally}`,
)
console.log(
  `  warm: ${String(warm.calls).padStart(3)} upstream calls  ${warm.ms.toFixed(0).padStart(5)} ms   x-cache: ${warm.tally}\n`,
)

// The first run of a debugging session: `cast run` replays a transaction on its block's parent state,
// one round trip per account and slot; the proxy prefetches that state in one trace instead.
const replayed = busy.txs[targetIndex(busy, 'middle')] as string
const runOnce = async (target: string) => {
  forwarder.reset()
  const started = performance.now()
  const output = await castRunTx(replayed, target)
  const requests = forwarder.requests() - forwarder.requestsWith('eth_blockNumber')
  return { ms: performance.now() - started, requests, output }
}
const direct = await runOnce(upstream)
const first = await runOnce(url)
const second = await runOnce(url)
const same = first.output === direct.output && second.output === direct.output ? 'same output' : 'OUTPUT DIFFERS'
console.log(`cast run of a transaction in a busy block (block ${busy.block}, 40 transactions):`)
for (const [name, run] of [
  ['direct', direct],
  ['first run through the proxy', first],
  ['second run through the proxy', second],
] as const) {
  console.log(
    `  ${name.padEnd(29)} ${String(run.requests).padStart(4)} upstream requests  ${run.ms.toFixed(0).padStart(6)} ms`,
  )
}
console.log(`  (${same}; the first run asked one prestate trace of the block instead of every account and slot)\n`)

const examples: [string, unknown[]][] = [
  ['edb_ping', []],
  ['eth_chainId', []],
  ['eth_blockNumber', []],
  ['eth_getBalance', ['0xf39Fd6e51aad88F6F4ce6aB8827279cffFb92266', '0x0']],
  ['eth_getBlockByNumber', ['0x0', false]],
]
for (const [method, params] of examples) {
  const reply = await rpc(url, method, params, method)
  const shown = JSON.stringify(reply)
  console.log(`→ ${method} ${JSON.stringify(params)}\n← ${shown.length > 200 ? `${shown.slice(0, 200)}…` : shown}\n`)
}
const health = await (await fetch(`${url}/health`)).text()
console.log(`GET /health ← ${health}\n`)
console.log(`Try it:  curl -s ${url} -d '{"jsonrpc":"2.0","id":1,"method":"eth_blockNumber"}'`)
console.log(`         cast block-number --rpc-url ${url}`)
console.log(`         edb-rpc-proxy monitor ${url}   (or: bun src/main.ts monitor ${url})      Ctrl-C stops the demo`)
await stop(await proxy.exited)
