import { describe, expect, test } from 'bun:test'
import { createCache } from '../../src/cache/cache.ts'
import type { Chain } from '../../src/chain/chain.ts'
import { createPipeline, type Pipeline } from '../../src/pipeline/index.ts'
import { createLocalMethods } from '../../src/pipeline/local-methods.ts'
import { createResolver } from '../../src/pipeline/resolve.ts'
import type { Forwarder } from '../../src/providers/forward.ts'
import type { Outcome, RpcCall } from '../../src/rpc/types.ts'

/** A forwarder that answers from a script and logs every call; `hold` keeps answers back until released. */
function scriptedForwarder(answer: (call: RpcCall) => Outcome) {
  const calls: string[] = []
  let gate: Promise<void> | undefined
  let gated: string | undefined
  let open = () => {}
  const forward: Forwarder = async (call) => {
    calls.push(`${call.method} ${JSON.stringify(call.params ?? [])}`)
    // The node answers as it is when asked; the answer only travels later.
    const outcome = { ...answer(call), provider: 'scripted' }
    if (gate !== undefined && (gated === undefined || gated === call.method)) await gate
    return outcome
  }
  return {
    forward,
    calls,
    /** Hold answers back (only those of `method`, when given) until `release`. */
    hold(method?: string) {
      gated = method
      gate = new Promise((resolve) => (open = resolve))
    },
    release() {
      gate = undefined
      open()
    },
  }
}

/** A chain whose view the test sets: finalized block, trust, dev or not. */
function fakeChain(finalized: number, overrides: Partial<{ devChain: boolean; trusted: boolean }> = {}) {
  const state = { finalized, trusted: overrides.trusted ?? true, rebased: 0, refreshed: 0 }
  const chain: Chain = {
    info: { chainId: 1, devChain: overrides.devChain ?? false },
    devChain: overrides.devChain ?? false,
    view: {
      get head() {
        return state.finalized + 64
      },
      get finalized() {
        return state.finalized
      },
      isFinal: (block) => block <= state.finalized,
      get trusted() {
        return state.trusted
      },
    },
    known: Promise.resolve({ chainId: 1, devChain: false }),
    start() {},
    touch() {},
    refresh: async () => {
      state.refreshed++
    },
    rebase() {
      state.rebased++
    },
    suspect() {},
    observeHead() {},
    stop() {},
  }
  return { chain, state }
}

const blockAnswer = (call: RpcCall): Outcome => {
  const [tag] = call.params as [string]
  if (call.method === 'eth_getTransactionByHash') return { resultJson: '{"hash":"0xtx","blockNumber":"0x5"}' }
  if (call.method === 'debug_traceTransaction') return { resultJson: '{"gas":1}' }
  if (call.method === 'eth_getBalance') return { resultJson: '"0x10"' }
  return { resultJson: `{"number":"${tag}"}` }
}

/** The pipeline over a resolver, as the server builds it, with no local methods. */
function build(
  forward: Forwarder,
  cache: ReturnType<typeof createCache>,
  chain: Chain,
  cacheOpened: Promise<unknown>,
): Pipeline {
  const resolve = createResolver({ forward, cache, chain, cacheOpened, waitMs: 1_000 })
  return createPipeline({
    resolve,
    cache,
    chain,
    local: createLocalMethods({}),
    maxBatchSize: 10,
    onUnexpected: () => {},
  })
}

function setup(
  options: { finalized?: number; devChain?: boolean; trusted?: boolean; cacheOpened?: Promise<unknown> } = {},
) {
  const upstream = scriptedForwarder(blockAnswer)
  const cache = createCache({ maxItems: 1000, maxMemoryBytes: 1 << 20 })
  const { chain, state } = fakeChain(options.finalized ?? 100, options)
  const cacheOpened = options.cacheOpened ?? Promise.resolve().then(() => cache.attach(undefined, 'test'))
  const pipeline = build(upstream.forward, cache, chain, cacheOpened)
  return { upstream, cache, state, pipeline }
}

/** Let queued promise callbacks run until `condition` holds (no timers: the pipeline is driven by promises alone). */
async function settled(condition: () => boolean): Promise<void> {
  for (let turn = 0; turn < 1_000 && !condition(); turn++) await Promise.resolve()
  if (!condition()) throw new Error('the condition never held')
}

const body = (method: string, params: unknown[], id: unknown = 1) =>
  JSON.stringify({ jsonrpc: '2.0', id, method, params })
const ask = async (pipeline: Pipeline, method: string, params: unknown[], id: unknown = 1) =>
  pipeline.handle(body(method, params, id), () => ({}))

describe('pipeline', () => {
  test('default', async () => {
    const { pipeline, upstream } = setup()
    expect(await ask(pipeline, 'eth_getBlockByNumber', ['0x5', false])).toEqual({
      text: '{"jsonrpc":"2.0","id":1,"result":{"number":"0x5"}}',
      cache: 'MISS',
      provider: 'scripted',
    })
    expect(await ask(pipeline, 'eth_getBlockByNumber', ['0x5', false], 2)).toEqual({
      text: '{"jsonrpc":"2.0","id":2,"result":{"number":"0x5"}}',
      cache: 'HIT',
    })
    expect(upstream.calls).toEqual(['eth_getBlockByNumber ["0x5",false]'])
  })

  test('behavior: a final answer is stored before it is delivered', async () => {
    const { pipeline, cache } = setup()
    await ask(pipeline, 'eth_getBlockByNumber', ['0x5', false])
    expect(cache.stats().total_entries).toBe(1)
  })

  test('behavior: sequential reads of a block above the finalized one each go upstream', async () => {
    const { pipeline, upstream } = setup({ finalized: 4 })
    for (let id = 0; id < 3; id++)
      expect((await ask(pipeline, 'eth_getBlockByNumber', ['0x5', false], id)).cache).toBe('MISS')
    expect(upstream.calls.length).toBe(3)
  })

  test('behavior: identical calls while the first is in flight share its answer, final or not', async () => {
    const { pipeline, upstream } = setup({ finalized: 0 })
    upstream.hold()
    const replies = Array.from({ length: 5 }, (_, id) => ask(pipeline, 'eth_getBlockByNumber', ['0x5', false], id))
    upstream.release()
    expect((await Promise.all(replies)).map((reply) => reply.text)).toEqual(
      Array.from({ length: 5 }, (_, id) => `{"jsonrpc":"2.0","id":${id},"result":{"number":"0x5"}}`),
    )
    expect(upstream.calls.length).toBe(1)
    expect((await ask(pipeline, 'eth_getBlockByNumber', ['0x5', false])).cache).toBe('MISS')
    expect(upstream.calls.length).toBe(2)
  })

  test("behavior: a trace by transaction hash is stored once the transaction's block is final, learned alongside", async () => {
    const final = setup({ finalized: 5 })
    await ask(final.pipeline, 'debug_traceTransaction', [`0x${'ab'.repeat(32)}`])
    expect((await ask(final.pipeline, 'debug_traceTransaction', [`0x${'ab'.repeat(32)}`])).cache).toBe('HIT')
    expect(final.upstream.calls.map((line) => line.split(' ')[0]).sort()).toEqual([
      'debug_traceTransaction',
      'eth_getTransactionByHash',
    ])
    const recent = setup({ finalized: 4 })
    await ask(recent.pipeline, 'debug_traceTransaction', [`0x${'ab'.repeat(32)}`])
    expect((await ask(recent.pipeline, 'debug_traceTransaction', [`0x${'ab'.repeat(32)}`])).cache).toBe('MISS')
  })

  test('behavior: a cacheable call before the cache opens waits for it, then hits', async () => {
    let open!: () => void
    const opened = new Promise<void>((resolve) => (open = resolve))
    const { pipeline, upstream, cache } = setup({ cacheOpened: opened })
    const waiting = ask(pipeline, 'eth_getBlockByNumber', ['0x5', false])
    expect(upstream.calls).toEqual([])
    cache.attach(undefined, 'test')
    open()
    expect((await waiting).cache).toBe('MISS')
    expect((await ask(pipeline, 'eth_getBlockByNumber', ['0x5', false])).cache).toBe('HIT')
  })

  test('behavior: an untrusted dev chain is verified first; still untrusted, the call goes uncached', async () => {
    const { pipeline, state, upstream } = setup({ devChain: true, trusted: false })
    await ask(pipeline, 'eth_getBlockByNumber', ['0x5', false])
    expect((await ask(pipeline, 'eth_getBlockByNumber', ['0x5', false])).cache).toBe('BYPASS')
    expect(state.refreshed).toBe(2)
    expect(upstream.calls.length).toBe(2)
    state.trusted = true
    await ask(pipeline, 'eth_getBlockByNumber', ['0x5', false])
    expect((await ask(pipeline, 'eth_getBlockByNumber', ['0x5', false])).cache).toBe('HIT')
  })

  test('behavior: a history rewrite on a dev chain empties the cache and rebases the chain view', async () => {
    const { pipeline, cache, state } = setup({ devChain: true })
    await ask(pipeline, 'eth_getBlockByNumber', ['0x5', false])
    expect(cache.stats().total_entries).toBe(1)
    await ask(pipeline, 'evm_revert', ['0x1'])
    expect(cache.stats().total_entries).toBe(0)
    expect(state.rebased).toBe(2)
    expect((await ask(pipeline, 'eth_getBlockByNumber', ['0x5', false])).cache).toBe('MISS')
  })

  test('behavior: an answer that arrives after a rewrite began is not stored', async () => {
    const { pipeline, upstream, cache } = setup({ devChain: true })
    await ask(pipeline, 'eth_chainId', [])
    upstream.hold()
    const read = ask(pipeline, 'eth_getBalance', ['0x1', '0x5'])
    await settled(() => upstream.calls.length === 2)
    const rewrite = ask(pipeline, 'anvil_setBalance', ['0x1', '0x0'])
    await settled(() => upstream.calls.length === 3)
    upstream.release()
    await Promise.all([read, rewrite])
    expect(cache.stats().total_entries).toBe(0)
    expect(upstream.calls.slice(1)).toEqual(['eth_getBalance ["0x1","0x5"]', 'anvil_setBalance ["0x1","0x0"]'])
  })

  test('behavior: a read sent after a rewrite never joins one sent before it', async () => {
    let balance = '"0x10"'
    const upstream = scriptedForwarder((call) =>
      call.method === 'eth_getBalance' ? { resultJson: balance } : { resultJson: 'true' },
    )
    const cache = createCache({ maxItems: 1000, maxMemoryBytes: 1 << 20 })
    cache.attach(undefined, 'test')
    const { chain } = fakeChain(100, { devChain: true })
    const pipeline = build(upstream.forward, cache, chain, Promise.resolve())
    upstream.hold('eth_getBalance')
    const before = ask(pipeline, 'eth_getBalance', ['0x1', '0x50'])
    await settled(() => upstream.calls.length === 1)
    await ask(pipeline, 'evm_revert', ['0x1'])
    balance = '"0x20"'
    const after = ask(pipeline, 'eth_getBalance', ['0x1', '0x50'], 2)
    await settled(() => upstream.calls.length === 3)
    upstream.release()
    expect((await after).text).toBe('{"jsonrpc":"2.0","id":2,"result":"0x20"}')
    expect((await before).text).toBe('{"jsonrpc":"2.0","id":1,"result":"0x10"}')
    expect(upstream.calls.filter((line) => line.startsWith('eth_getBalance')).length).toBe(2)
  })

  test('behavior: a byte-identical body is answered synchronously from the remembered reply', async () => {
    const { pipeline } = setup()
    await ask(pipeline, 'eth_getBlockByNumber', ['0x5', false])
    await ask(pipeline, 'eth_getBlockByNumber', ['0x5', false])
    const remembered = pipeline.handle(body('eth_getBlockByNumber', ['0x5', false]), () => ({}))
    expect(remembered).toEqual({ text: '{"jsonrpc":"2.0","id":1,"result":{"number":"0x5"}}', cache: 'HIT' })
  })
})
