import { afterAll, beforeAll, describe, expect, test } from 'bun:test'
import { toHex } from 'viem'
import { type Anvil, rpc, startAnvil } from '../helpers/anvil.ts'
import { type BusyBlock, seedBusyBlock } from '../helpers/busy-block.ts'
import { startProxy } from '../helpers/proxy.ts'
import { waitFor } from '../helpers/wait.ts'

/**
 * SPEC §14 and §15 together: a prefetch proves the parent state in parts, by the transaction that
 * first touched it, and a read waiting on it goes on as soon as its own part is proven and stored.
 * A relay in front of anvil holds every proof request that names the last transaction's sender:
 * the first sender's balance is answered from the prefetch (proven) while that part is held.
 */
let anvil: Anvil
let busy: BusyBlock
let relay: ReturnType<typeof Bun.serve>
let release: () => void = () => {}
const released = new Promise<void>((resolve) => {
  release = resolve
})
let held = 0

beforeAll(async () => {
  anvil = await startAnvil()
  busy = await seedBusyBlock(anvil.url)
  const lastSender = (busy.senders.at(-1) as string).toLowerCase()
  relay = Bun.serve({
    hostname: '127.0.0.1',
    port: 0,
    async fetch(request) {
      const body = await request.text()
      if (body.includes('eth_getProof') && body.toLowerCase().includes(lastSender)) {
        held += 1
        await released
      }
      const answer = await fetch(anvil.url, { method: 'POST', body, headers: { 'content-type': 'application/json' } })
      return new Response(await answer.text(), { headers: { 'content-type': 'application/json' } })
    },
  })
})
afterAll(async () => {
  release()
  relay.stop(true)
  await anvil.stop()
})

describe('a prefetch proven in parts (SPEC §14, §15)', () => {
  test('behavior: a read is answered once its own part is proven, while a later part is still held', async () => {
    const [first, last] = [busy.senders[0] as string, busy.senders.at(-1) as string]
    expect(busy.touched[0]?.accounts.map((a) => a.toLowerCase())).not.toContain(last.toLowerCase())
    await using proxy = await startProxy({ rpcUrls: [`http://127.0.0.1:${relay.port}`], devChain: 'no' })
    await proxy.cacheReady
    const parent = toHex(busy.parent)
    // The client replays the busy block: it asks for it first (SPEC §14's trigger).
    await proxy.call('eth_getBlockByNumber', [toHex(busy.block), true])
    const balance = (address: string) =>
      proxy.post({ jsonrpc: '2.0', id: 1, method: 'eth_getBalance', params: [address, parent] })
    const lastRead = balance(last)
    let lastAnswered = false
    void lastRead.then(() => {
      lastAnswered = true
    })
    const firstRead = await balance(first)
    // The later parts are asked once the block's trace is in, about when the first part is stored.
    await waitFor(() => held > 0, 'the last part held at the relay')
    expect({
      result: firstRead.json.result,
      cache: firstRead.headers.get('x-cache'),
      verified: firstRead.headers.get('x-verified'),
      lastAnswered,
      held: held > 0,
    }).toEqual({
      result: (await rpc(anvil.url, 'eth_getBalance', [first, parent])).result,
      cache: 'HIT',
      verified: 'proof',
      lastAnswered: false,
      held: true,
    })
    release()
    const lastAnswer = await lastRead
    expect({ result: lastAnswer.json.result, verified: lastAnswer.headers.get('x-verified') }).toEqual({
      result: (await rpc(anvil.url, 'eth_getBalance', [last, parent])).result,
      verified: 'proof',
    })
  })
})
