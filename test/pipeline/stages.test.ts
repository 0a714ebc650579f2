import { describe, expect, test } from 'bun:test'
import { planCall } from '../../src/cache/policy.ts'
import { createCallStage, type RateLimit } from '../../src/pipeline/call.ts'
import { isFinalAnswer } from '../../src/pipeline/finality.ts'
import { createPipeline } from '../../src/pipeline/index.ts'
import { createLocalMethods } from '../../src/pipeline/local-methods.ts'
import { type BodyScope, OPEN_GATE, type Resolved } from '../../src/pipeline/scope.ts'
import { firstHit, type Tier } from '../../src/pipeline/tiers.ts'
import type { CallContext } from '../../src/rpc/context.ts'
import type { RpcCall } from '../../src/rpc/types.ts'

const call = (method: string, params: unknown[] = [], id = 1): RpcCall => ({ jsonrpc: '2.0', id, method, params })
const scope = (context: CallContext = {}): BodyScope => ({ context: () => context, gate: OPEN_GATE })
const PLAN = planCall('eth_getBlockByNumber', ['0x5', false])!

describe('tiers', () => {
  test('default', () => {
    const asked: string[] = []
    const tier =
      (name: string, answer?: string): Tier =>
      () => {
        asked.push(name)
        return answer
      }
    expect(firstHit([tier('memory'), tier('composed', '"0x1"'), tier('shared', '"0x2"')], PLAN, [])).toBe('"0x1"')
    expect(asked).toEqual(['memory', 'composed'])
  })

  test('behavior: synchronous while every tier asked was; an asynchronous tier is awaited, then the next asked', async () => {
    const later: Tier = async () => undefined
    const found = firstHit([() => undefined, later, () => '"0x3"'], PLAN, [])
    expect(found).toBeInstanceOf(Promise)
    expect(await found).toBe('"0x3"')
    expect(firstHit([() => undefined], PLAN, [])).toBeUndefined()
  })
})

describe('finality', () => {
  const view = { head: 70, finalized: 6, isFinal: (block: number) => block <= 6, trusted: true }
  test('default', () => {
    expect(isFinalAnswer(PLAN, '{"number":"0x5"}', view, async () => undefined)).toBe(true)
  })
  test('behavior: a transaction-addressed answer is final once its block is', async () => {
    const plan = planCall('debug_traceTransaction', [`0x${'ab'.repeat(32)}`])!
    expect(await isFinalAnswer(plan, '{"gas":1}', view, async () => 5)).toBe(true)
    expect(await isFinalAnswer(plan, '{"gas":1}', view, async () => 7)).toBe(false)
    expect(await isFinalAnswer(plan, '{"gas":1}', view, async () => undefined)).toBe(false)
  })
})

describe('local methods', () => {
  test('default', () => {
    const table = createLocalMethods({
      management: [{ edb_ping: { run: () => 'ok' } }],
      filters: [{ eth_newBlockFilter: { run: () => '0x1' } }],
    })
    expect(table.get('edb_ping')).toMatchObject({ group: 'management', counted: false, privileged: false, cost: 1 })
    expect(table.get('eth_newBlockFilter')).toMatchObject({
      group: 'filters',
      counted: true,
      privileged: false,
      cost: undefined,
    })
  })
  test('behavior: a name given twice, in one group or two, is refused at start-up', () => {
    expect(() =>
      createLocalMethods({ management: [{ edb_ping: { run: () => 1 } }, { edb_ping: { run: () => 2 } }] }),
    ).toThrow('edb_ping is answered by two groups of local methods (management and management)')
    expect(() =>
      createLocalMethods({
        management: [{ eth_subscribe: { run: () => 1 } }],
        subscriptions: [{ eth_subscribe: { run: () => 2 } }],
      }),
    ).toThrow('eth_subscribe is answered by two groups of local methods (management and subscriptions)')
  })
})

describe('the call stage', () => {
  /** A budget of `left` calls per client, and the log of what was charged. */
  const budget = (left: number, freeHits = false) => {
    const charged: string[] = []
    const rateLimit: RateLimit = {
      freeHits,
      take: (client, cost) => {
        charged.push(`${client}:${cost}`)
        left -= cost
        return left >= 0 ? { ok: true } : { ok: false, retryAfterS: 1 }
      },
    }
    return { rateLimit, charged }
  }
  const resolvedBy =
    (cache: Resolved['cache'], upstream = true) =>
    async (_call: RpcCall, inner: BodyScope): Promise<Resolved> =>
      upstream
        ? inner.gate(async () => ({ outcome: { resultJson: '"0x1"' }, cache }))
        : { outcome: { resultJson: '"0x1"' }, cache }

  test('default', async () => {
    const stage = createCallStage({ local: createLocalMethods({}), resolve: resolvedBy('MISS') })
    expect(await stage(call('eth_getBalance', ['0x1', '0x5']), scope())).toEqual({
      outcome: { resultJson: '"0x1"' },
      cache: 'MISS',
    })
  })

  test('behavior: management is free from loopback and charged 1 elsewhere; privileged needs admin rights', async () => {
    const { rateLimit, charged } = budget(10)
    const local = createLocalMethods({
      management: [{ edb_ping: { run: () => 'pong' }, edb_shutdown: { run: () => 'bye' } }],
    })
    const stage = createCallStage({ local, resolve: resolvedBy('MISS'), rateLimit })
    expect((await stage(call('edb_ping'), scope({ loopback: true, client: 'me' }))).outcome).toEqual({
      resultJson: '"pong"',
    })
    expect((await stage(call('edb_ping'), scope({ client: 'far' }))).outcome).toEqual({ resultJson: '"pong"' })
    expect(charged).toEqual(['far:1'])
    const refused = await stage(call('edb_shutdown'), scope({ loopback: true, adminDenied: 'no admin token' }))
    expect(refused.outcome.error).toEqual({ code: -32010, message: 'edb_shutdown refused: no admin token' })
  })

  test('behavior: filter and subscription methods are charged like data calls, from loopback too', async () => {
    const { rateLimit, charged } = budget(1)
    const local = createLocalMethods({ filters: [{ eth_newBlockFilter: { run: () => '0x1' } }] })
    const stage = createCallStage({ local, resolve: resolvedBy('MISS'), rateLimit })
    expect((await stage(call('eth_newBlockFilter'), scope({ loopback: true, client: 'me' }))).outcome).toEqual({
      resultJson: '"0x1"',
    })
    const refused = await stage(call('eth_newBlockFilter'), scope({ loopback: true, client: 'me' }))
    expect({ code: refused.outcome.error?.code, retryAfterS: refused.retryAfterS }).toEqual({
      code: -32005,
      retryAfterS: 1,
    })
    expect(charged).toEqual(['me:1', 'me:1'])
  })

  test('behavior: with free hits, the budget is charged only on the way upstream (the gate), at the method cost', async () => {
    const { rateLimit, charged } = budget(100, true)
    const hit = createCallStage({ local: createLocalMethods({}), resolve: resolvedBy('HIT', false), rateLimit })
    await hit(call('eth_getLogs', [{}]), scope({ client: 'c' }))
    expect(charged).toEqual([])
    const miss = createCallStage({ local: createLocalMethods({}), resolve: resolvedBy('MISS'), rateLimit })
    await miss(call('eth_getLogs', [{}]), scope({ client: 'c' }))
    expect(charged).toEqual(['c:10'])
  })

  test('behavior: the edb_ namespace is never forwarded; a browser origin not allowed may not use a node’s keys', async () => {
    const stage = createCallStage({ local: createLocalMethods({}), resolve: resolvedBy('MISS') })
    expect((await stage(call('edb_nope'), scope())).outcome.error?.code).toBe(-32601)
    const denied = await stage(call('eth_sendTransaction', [{}]), scope({ originDenied: 'origin not allowed' }))
    expect(denied.outcome.error).toEqual({ code: -32010, message: 'eth_sendTransaction refused: origin not allowed' })
  })

  test('behavior: counted calls are observed with their cache status, per client too; refusals are not', async () => {
    const seen: string[] = []
    const { rateLimit } = budget(1)
    const local = createLocalMethods({ filters: [{ eth_getFilterChanges: { run: () => [] } }] })
    const stage = createCallStage({
      local,
      resolve: resolvedBy('HIT', false),
      rateLimit,
      observeCall: (method, cache) => seen.push(`${method} ${cache}`),
      observeClient: (client, outcome) => seen.push(`${client} ${outcome}`),
    })
    await stage(call('eth_getBalance', ['0x1', '0x5']), scope({ client: 'alice' }))
    await stage(call('eth_getFilterChanges', ['0x1']), scope({ client: 'alice' }))
    expect(seen).toEqual(['eth_getBalance HIT', 'alice hit'])
  })
})

describe('the pipeline around its stages', () => {
  test('behavior: a batch assembles its calls in order; 429 only when every answered call was refused; subscriptions made are named', async () => {
    const local = createLocalMethods({ subscriptions: [{ eth_subscribe: { run: () => '0xsub' } }] })
    const pipeline = createPipeline({
      local,
      resolve: async (asked) => ({ outcome: { resultJson: `"${asked.method}"`, provider: 'p' }, cache: 'MISS' }),
      cache: { peek: () => undefined },
      chain: { view: { head: 0, finalized: 0, isFinal: () => true, trusted: true }, touch() {} },
      maxBatchSize: 10,
      onUnexpected: () => {},
    })
    const reply = await pipeline.handle(
      JSON.stringify([call('eth_subscribe', ['newHeads'], 1), call('eth_chainId', [], 2)]),
      () => ({}),
    )
    expect(reply).toEqual({
      text: '[{"jsonrpc":"2.0","id":1,"result":"0xsub"},{"jsonrpc":"2.0","id":2,"result":"eth_chainId"}]',
      cache: 'MISS',
      provider: 'p',
      subscriptions: ['0xsub'],
    })
  })
})
