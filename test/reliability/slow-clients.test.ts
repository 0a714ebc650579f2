import { afterAll, beforeAll, describe, expect, test } from 'bun:test'
import { startProxy, type TestProxy } from '../helpers/proxy.ts'
import { type ScriptedUpstream, startScriptedUpstream } from '../helpers/upstream.ts'

let node: ScriptedUpstream
let proxy: TestProxy

beforeAll(async () => {
  node = startScriptedUpstream((call) => (call?.method === 'eth_chainId' ? '0x1' : '0x2a'))
  proxy = await startProxy({ rpcUrls: [node.url], devChain: 'no' })
})
afterAll(async () => {
  await proxy.stop()
  await node.stop()
})

/** A raw TCP client that writes `text` and then stalls, never finishing its request. */
async function stall(text: string) {
  return Bun.connect({
    hostname: '127.0.0.1',
    port: proxy.port,
    socket: {
      data() {},
      open(socket) {
        socket.write(text)
      },
    },
  })
}

describe('slow clients', () => {
  test('behavior: clients stalled in headers, in the body, or never reading do not stop others from being served', async () => {
    const stalled = [
      ...(await Promise.all(
        Array.from({ length: 40 }, () => stall('POST / HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Le')),
      )),
      ...(await Promise.all(
        Array.from({ length: 40 }, () =>
          stall('POST / HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Length: 1000\r\n\r\n{"jsonrpc":"2.0",'),
        ),
      )),
    ]
    // a client that asks for a large batch of answers and never reads them
    const batch = JSON.stringify(
      Array.from({ length: 500 }, (_, id) => ({ jsonrpc: '2.0', id, method: 'eth_chainId' })),
    )
    stalled.push(
      await stall(`POST / HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Length: ${Buffer.byteLength(batch)}\r\n\r\n${batch}`),
    )
    for (let id = 0; id < 50; id++)
      expect(await proxy.call('eth_blockNumber', [], id)).toEqual({ jsonrpc: '2.0', id, result: '0x2a' })
    for (const socket of stalled) socket.end()
    expect((await proxy.call('edb_ping')).result.status).toBe('ok')
  })
})
