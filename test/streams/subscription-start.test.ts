import { afterEach, describe, expect, test } from 'bun:test'
import { type Anvil, rpc, startAnvil } from '../helpers/anvil.ts'
import { EMITTER, emit, installEmitter } from '../helpers/emitter.ts'
import { freePort } from '../helpers/ports.ts'
import { startProxy, type TestProxy } from '../helpers/proxy.ts'
import { waitFor } from '../helpers/wait.ts'
import { connectWs } from '../helpers/ws-client.ts'
import { startWsForwarder, type WsForwarder } from '../helpers/ws-forwarder.ts'

const cleanup: (() => Promise<unknown> | unknown)[] = []
afterEach(async () => {
  while (cleanup.length > 0) await cleanup.pop()!()
})

/**
 * Where the feeds get heads: an upstream socket whose events come late (behind a forwarder, so a
 * block mined right after a subscription is seen first by anything but the socket), or polling over HTTP.
 */
type Mode = 'socket' | 'polling'
type Setup = { anvil: Anvil; proxy: TestProxy; feed?: WsForwarder }

async function setUp(mode: Mode): Promise<Setup> {
  const anvil = await startAnvil()
  cleanup.push(() => anvil.stop())
  await installEmitter(anvil.url)
  let feed: WsForwarder | undefined
  if (mode === 'socket') {
    const forwarder = startWsForwarder(anvil.url)
    cleanup.push(() => forwarder.stop())
    forwarder.delayMs = 200
    feed = forwarder
  }
  const wsUrls = feed === undefined ? [`ws://127.0.0.1:${freePort()}`] : [feed.url]
  const proxy = await startProxy({ rpcUrls: [anvil.url], wsUrls, pollIntervalMs: mode === 'polling' ? 100 : 1_000 })
  cleanup.push(() => proxy.stop())
  await proxy.cacheReady
  return { anvil, proxy, feed }
}

/** One subscription or filter through the proxy: everything it was given so far, as block or transaction hashes. */
type Reader = { read(): Promise<string[]> }

/** One of the four ways to follow the chain: how to open one, and how to make one new thing it reports. */
type Kind = { name: string; open(setup: Setup): Promise<Reader>; make(anvil: Anvil): Promise<string> }

async function subscription(proxy: TestProxy, params: unknown[], pick: (event: any) => string): Promise<Reader> {
  const ws = await connectWs(proxy.url)
  cleanup.unshift(() => ws.close())
  const { result: id } = await ws.call('eth_subscribe', params)
  expect(id).toMatch(/^0x[0-9a-f]{32}$/)
  return { read: async () => (ws.notifications.get(id) ?? []).map(pick) }
}

async function filter(
  proxy: TestProxy,
  method: string,
  params: unknown[],
  pick: (change: any) => string,
): Promise<Reader> {
  const { result: id } = await proxy.call(method, params)
  expect(id).toMatch(/^0x[0-9a-f]{32}$/)
  const all: string[] = []
  return {
    async read() {
      const { result } = await proxy.call('eth_getFilterChanges', [id])
      all.push(...result.map(pick))
      return [...all]
    },
  }
}

async function mineOne(anvil: Anvil): Promise<string> {
  await rpc(anvil.url, 'anvil_mine', ['0x1'])
  return (await rpc(anvil.url, 'eth_getBlockByNumber', ['latest', false])).result.hash
}

/** One log, in a block of its own: resolves once that block is mined (anvil answers the hash before it mines). */
async function emitOne(anvil: Anvil): Promise<string> {
  const hash = await emit(anvil.url)
  await waitFor(
    async () => (await rpc(anvil.url, 'eth_getTransactionReceipt', [hash])).result,
    `the receipt of ${hash}`,
  )
  return hash
}

const KINDS: Kind[] = [
  { name: 'newHeads', open: ({ proxy }) => subscription(proxy, ['newHeads'], (head) => head.hash), make: mineOne },
  {
    name: 'logs',
    open: ({ proxy }) => subscription(proxy, ['logs', { address: EMITTER }], (log) => log.transactionHash),
    make: emitOne,
  },
  {
    name: 'a block filter',
    open: ({ proxy }) => filter(proxy, 'eth_newBlockFilter', [], (hash) => hash),
    make: mineOne,
  },
  {
    name: 'a log filter',
    open: ({ proxy }) => filter(proxy, 'eth_newFilter', [{ address: EMITTER }], (log) => log.transactionHash),
    make: emitOne,
  },
]

async function makeSome(anvil: Anvil, kind: Kind, count: number): Promise<string[]> {
  const made: string[] = []
  for (let index = 0; index < count; index++) made.push(await kind.make(anvil))
  return made
}

/** Read until `last` is among what `reader` was given (everything before it came in order, before it); returns all of it. */
async function readThrough(reader: Reader, last: string): Promise<string[]> {
  let seen: string[] = []
  await waitFor(async () => {
    seen = await reader.read()
    return seen.includes(last)
  }, `${last} delivered`)
  return seen
}

describe.each(['socket', 'polling'] as Mode[])(
  'a subscription or filter starts after the head it was made at (%s)',
  (mode) => {
    for (const kind of KINDS) {
      test(`behavior: ${kind.name}: nothing made since it was made gives nothing; the first thing delivered is the next one made`, async () => {
        const setup = await setUp(mode)
        // The current head has a block hash and a log of its own: neither is news to what is made now.
        await makeSome(setup.anvil, kind, 5)
        const reader = await kind.open(setup)
        if (kind.name.includes('filter')) expect(await reader.read()).toEqual([])
        const next = await kind.make(setup.anvil)
        expect(await readThrough(reader, next)).toEqual([next])
      })

      test(`behavior: ${kind.name}: everything made right after the answer arrives, once each, in order`, async () => {
        const setup = await setUp(mode)
        await makeSome(setup.anvil, kind, 2)
        const reader = await kind.open(setup)
        // Made before the feed's first poll or first upstream event: none may be taken for the start.
        const made = await makeSome(setup.anvil, kind, 3)
        expect(await readThrough(reader, made[2]!)).toEqual(made)
      })

      test(`behavior: ${kind.name}: joining a running feed gives only what is made after joining`, async () => {
        const setup = await setUp(mode)
        await makeSome(setup.anvil, kind, 2)
        const first = await kind.open(setup)
        const early = await kind.make(setup.anvil)
        await readThrough(first, early)
        // The feed has not seen the next thing when the second one joins (its socket is slower still).
        if (setup.feed !== undefined) setup.feed.delayMs = 400
        const before = await kind.make(setup.anvil)
        const second = await kind.open(setup)
        const after = await kind.make(setup.anvil)
        expect(await readThrough(second, after)).toEqual([after])
        expect(await readThrough(first, after)).toEqual([early, before, after])
      })
    }
  },
)
