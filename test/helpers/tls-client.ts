/**
 * `bun test/helpers/tls-client.ts <https proxy url> <anvil url>` with NODE_EXTRA_CA_CERTS set to the
 * test's certificate: viem over HTTPS (`eth_chainId`) and over WSS (`watchBlocks` until one new
 * block, mined through anvil), as a real client trusting that certificate. Prints one JSON line.
 */
import { createPublicClient, http, webSocket } from 'viem'

const [proxyUrl, anvilUrl] = process.argv.slice(2) as [string, string]
const overHttps = createPublicClient({ transport: http(proxyUrl) })
const chainId = await overHttps.getChainId()
const overWss = createPublicClient({ transport: webSocket(proxyUrl.replace(/^https/, 'wss'), { retryCount: 0 }) })
const block = await new Promise<bigint>((resolve, reject) => {
  const timer = setTimeout(() => reject(new Error('no block over WSS within 10 s')), 10_000)
  const stop = overWss.watchBlocks({
    emitOnBegin: false,
    onBlock: (found) => {
      clearTimeout(timer)
      stop()
      resolve(found.number)
    },
    onError: reject,
  })
  // The subscription is up once the proxy reports it; mine then.
  const mine = async () => {
    for (let tries = 0; tries < 100; tries++) {
      const streams = (await overHttps.request({ method: 'edb_streams' as never })) as {
        subscriptions: { newHeads: number }
      }
      if (streams.subscriptions.newHeads > 0) break
      await Bun.sleep(20)
    }
    await fetch(anvilUrl, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: '{"jsonrpc":"2.0","id":1,"method":"anvil_mine","params":["0x1"]}',
    })
  }
  void mine()
})
console.log(JSON.stringify({ chainId, block: Number(block) }))
process.exit(0)
