import { afterEach, describe, expect, test } from 'bun:test'
import { keccak256 } from 'viem'
import { answerCheck } from '../../src/cache/integrity.ts'
import { planCall } from '../../src/cache/policy.ts'
import { startProxy, type TestProxy } from '../helpers/proxy.ts'
import { type ScriptedUpstream, startScriptedUpstream } from '../helpers/upstream.ts'

const HASH = `0x${'ab'.repeat(32)}`
const OTHER = `0x${'cd'.repeat(32)}`
const RAW = '0x02f86c0180843b9aca00847735940082520894000000000000000000000000000000000000000080c0'
const check = (method: string, params: unknown[], value: unknown) => answerCheck(planCall(method, params)!)?.(value)

describe('answer checks', () => {
  test('default', () => {
    expect(check('eth_getBlockByNumber', ['0x8', false], { number: '0x8', hash: HASH })).toBeUndefined()
    expect(check('eth_getBlockByNumber', ['0x8', false], { number: '0x9', hash: HASH })).toBe('another block')
  })

  const table: [string, unknown[], unknown, boolean][] = [
    ['eth_getBlockByNumber', ['0x08', false], { number: '0x8' }, true],
    ['eth_getBlockByNumber', ['0x8', false], null, true],
    ['eth_getBlockByNumber', ['0x8', false], '0x8', false],
    ['eth_getBlockByHash', [HASH.toUpperCase().replace('0X', '0x'), false], { hash: HASH }, true],
    ['eth_getBlockByHash', [HASH, false], { hash: OTHER }, false],
    ['eth_getTransactionByHash', [HASH], { hash: HASH }, true],
    ['eth_getTransactionByHash', [HASH], { hash: OTHER }, false],
    ['eth_getTransactionReceipt', [HASH], { transactionHash: OTHER }, false],
    ['eth_getRawTransactionByHash', [keccak256(RAW)], RAW, true],
    ['eth_getRawTransactionByHash', [HASH], RAW, false],
    ['eth_getTransactionByBlockNumberAndIndex', ['0x8', '0x1'], { blockNumber: '0x8', transactionIndex: '0x1' }, true],
    ['eth_getTransactionByBlockNumberAndIndex', ['0x8', '0x1'], { blockNumber: '0x8', transactionIndex: '0x2' }, false],
    ['eth_getTransactionByBlockHashAndIndex', [HASH, '0x0'], { blockHash: OTHER, transactionIndex: '0x0' }, false],
    ['eth_getBlockReceipts', ['0x8'], [{ blockNumber: '0x8' }, { blockNumber: '0x8' }], true],
    ['eth_getBlockReceipts', ['0x8'], [{ blockNumber: '0x8' }, { blockNumber: '0x7' }], false],
    ['eth_getLogs', [{ blockHash: HASH }], [{ blockHash: HASH }], true],
    ['eth_getLogs', [{ blockHash: HASH }], [{ blockHash: OTHER }], false],
    ['eth_getLogs', [{ fromBlock: '0x2', toBlock: '0x4' }], [{ blockNumber: '0x2' }, { blockNumber: '0x4' }], true],
    ['eth_getLogs', [{ fromBlock: '0x2', toBlock: '0x4' }], [{ blockNumber: '0x5' }], false],
    ['eth_getLogs', [{ fromBlock: '0x2', toBlock: '0x4' }], { not: 'a list' }, false],
  ]
  for (const [method, params, value, passes] of table) {
    test(`behavior: ${method} ${JSON.stringify(params)} ${passes ? 'accepts' : 'rejects'} ${JSON.stringify(value).slice(0, 60)}`, () => {
      expect(check(method, params, value) === undefined).toBe(passes)
    })
  }

  test('behavior: answers that name nothing checkable get no check', () => {
    expect(answerCheck(planCall('eth_getBalance', ['0x1', '0x8'])!)).toBeUndefined()
    expect(answerCheck(planCall('eth_chainId', [])!)).toBeUndefined()
  })
})

describe('a provider that answers another question', () => {
  const cleanup: (() => Promise<void>)[] = []
  afterEach(async () => {
    while (cleanup.length > 0) await cleanup.pop()!()
  })

  /** Chain 1, finalized block 0x100; eth_getBlockByNumber answers block `shift` past the one asked. */
  function node(shift: number): ScriptedUpstream {
    const server = startScriptedUpstream((call) => {
      if (call.method === 'eth_chainId') return '0x1'
      if (call.method === 'eth_blockNumber') return '0x200'
      const [tag] = call.params
      if (tag === 'finalized') return { number: '0x100', hash: HASH }
      return { number: `0x${(Number.parseInt(tag, 16) + shift).toString(16)}`, hash: HASH }
    })
    cleanup.push(() => server.stop())
    return server
  }

  async function proxyFor(urls: string[]): Promise<TestProxy> {
    const proxy = await startProxy({ rpcUrls: urls, devChain: 'no', healthCheckInterval: 3_600 })
    cleanup.unshift(() => proxy.stop())
    await proxy.cacheReady
    return proxy
  }

  const asked = (server: ScriptedUpstream) =>
    server.hits.filter((hit) => hit.body?.method === 'eth_getBlockByNumber' && hit.body.params[0] === '0x8').length

  test('behavior: its wrong block is never served nor stored; the honest provider answers', async () => {
    const liar = node(1)
    const honest = node(0)
    const proxy = await proxyFor([liar.url, honest.url])
    for (let id = 0; id < 10 && asked(liar) === 0; id++) {
      await proxy.call('edb_deleteCache', ['eth_getBlockByNumber'])
      expect((await proxy.call('eth_getBlockByNumber', ['0x8', false], id)).result.number).toBe('0x8')
    }
    expect(asked(liar)).toBeGreaterThan(0)
    const view = (await proxy.call('edb_providers')).result.providers.find((entry: any) =>
      liar.url.startsWith(entry.url),
    )
    expect(view.consecutive_failures).toBeGreaterThan(0)
  })

  test('behavior: with only a lying provider the call fails and nothing is cached', async () => {
    const liar = node(1)
    const proxy = await proxyFor([liar.url])
    for (let round = 0; round < 2; round++) {
      const reply = await proxy.call('eth_getBlockByNumber', ['0x8', false], round)
      expect(reply.error.code).toBe(-32002)
      expect(reply.error.data.attempts[0].message).toContain('the answer does not match the question: another block')
    }
    expect(asked(liar)).toBe(2)
    expect((await proxy.call('edb_cache_stats')).result.total_entries).toBe(0)
  })
})
