import { afterAll, beforeAll, describe, expect, test } from 'bun:test'
import { startProxy, type TestProxy } from '../helpers/proxy.ts'
import { type ScriptedUpstream, startScriptedUpstream } from '../helpers/upstream.ts'

let node: ScriptedUpstream
let proxy: TestProxy

beforeAll(async () => {
  node = startScriptedUpstream((call) => (call?.method === 'eth_chainId' ? '0x1' : { echo: call?.method ?? null }))
  proxy = await startProxy({ rpcUrls: [node.url], devChain: 'no', maxBodyBytes: 256 * 1024, maxBatchSize: 50 })
  await proxy.cacheReady
})
afterAll(async () => {
  await proxy.stop()
  await node.stop()
})

/** A small seeded generator, so a failure can be replayed. */
function generator(seed: number) {
  let state = seed >>> 0
  const next = () => {
    state = (state * 1_664_525 + 1_013_904_223) >>> 0
    return state / 2 ** 32
  }
  const pick = <T>(items: readonly T[]): T => items[Math.floor(next() * items.length)] as T
  const value = (depth: number): unknown => {
    const kind = pick(['null', 'bool', 'int', 'float', 'huge', 'string', 'unicode', 'array', 'object', 'hex'] as const)
    if (depth > 3 && (kind === 'array' || kind === 'object')) return null
    switch (kind) {
      case 'null':
        return null
      case 'bool':
        return next() < 0.5
      case 'int':
        return Math.floor(next() * 2 ** 31) - 2 ** 30
      case 'float':
        return next() * 1e6
      case 'huge':
        return 1e308 * (next() < 0.5 ? -1 : 1)
      case 'string':
        return 'x'.repeat(Math.floor(next() * 300))
      case 'unicode':
        return '\u0000\ud83d\ude00\u202e\uffff'.repeat(Math.floor(next() * 20))
      case 'hex':
        return `0x${Math.floor(next() * 2 ** 40).toString(16)}`
      case 'array':
        return Array.from({ length: Math.floor(next() * 5) }, () => value(depth + 1))
      case 'object':
        return Object.fromEntries(
          Array.from({ length: Math.floor(next() * 5) }, (_, i) => [
            pick(['a', 'blockHash', 'fromBlock', `k${i}`]),
            value(depth + 1),
          ]),
        )
    }
  }
  const methods = [
    'eth_getBalance',
    'eth_call',
    'eth_getLogs',
    'eth_getBlockByNumber',
    'edb_register',
    'edb_heartbeat',
    'edb_deleteCache',
    'edb_ping',
    'edb_cache_stats',
    'eth_chainId',
    '',
    'edb_nope',
    'x'.repeat(300),
  ]
  const call = (): unknown => {
    const shape = pick([
      'valid',
      'valid',
      'wrong-jsonrpc',
      'no-method',
      'wrong-id',
      'wrong-params',
      'scalar',
      'extra',
    ] as const)
    const base: Record<string, unknown> = {
      jsonrpc: '2.0',
      id: pick([1, 'a', null, 2 ** 53, -0.5]),
      method: pick(methods),
      params: value(0),
    }
    if (!Array.isArray(base.params) && (base.params === null || typeof base.params !== 'object'))
      base.params = [base.params]
    if (shape === 'wrong-jsonrpc') base.jsonrpc = pick(['1.0', 2, null, ''])
    if (shape === 'no-method') delete base.method
    if (shape === 'wrong-id') base.id = pick([{}, [], true])
    if (shape === 'wrong-params') base.params = pick(['x', 5, true, null])
    if (shape === 'extra') base.extra = value(0)
    return shape === 'scalar' ? value(0) : base
  }
  const body = (): string => {
    const form = pick(['single', 'batch', 'truncated', 'garbage', 'empty-batch', 'deep'] as const)
    if (form === 'batch') return JSON.stringify(Array.from({ length: 1 + Math.floor(next() * 60) }, call))
    if (form === 'truncated') return JSON.stringify(call()).slice(0, Math.floor(next() * 40))
    if (form === 'garbage')
      return String.fromCharCode(...Array.from({ length: Math.floor(next() * 64) }, () => Math.floor(next() * 0xd7ff)))
    if (form === 'empty-batch') return '[]'
    if (form === 'deep')
      return `{"jsonrpc":"2.0","id":1,"method":"eth_call","params":${'['.repeat(200)}${']'.repeat(200)}}`
    return JSON.stringify(call())
  }
  return { body }
}

/** Every answer is a JSON-RPC response object: a result or an error with an integer code and a message. */
function isResponse(value: any): boolean {
  if (value === null || typeof value !== 'object' || value.jsonrpc !== '2.0' || !('id' in value)) return false
  if ('result' in value) return !('error' in value)
  return Number.isInteger(value.error?.code) && typeof value.error?.message === 'string'
}

describe('fuzzing', () => {
  test('behavior: 10,000 structure-aware fuzzed bodies each get a JSON-RPC answer (or 204/413), and the proxy stays up with bounded memory', async () => {
    const fuzz = generator(20_261_122)
    const rssBefore = process.memoryUsage.rss()
    let checked = 0
    for (let round = 0; round < 100; round++) {
      const bodies = Array.from({ length: 100 }, fuzz.body)
      const replies = await Promise.all(
        bodies.map(async (body) => {
          const response = await fetch(proxy.url, { method: 'POST', body })
          return { body, status: response.status, text: await response.text() }
        }),
      )
      for (const { body, status, text } of replies) {
        checked++
        if (status === 204) continue
        expect([200, 413]).toContain(status)
        const json = JSON.parse(text)
        const answers = Array.isArray(json) ? json : [json]
        for (const answer of answers)
          if (!isResponse(answer))
            throw new Error(`not a JSON-RPC response to ${body.slice(0, 200)}: ${text.slice(0, 300)}`)
      }
    }
    expect(checked).toBe(10_000)
    expect((await proxy.call('edb_ping')).result.status).toBe('ok')
    // per-method statistics stay capped whatever method names clients invent
    expect(Object.keys((await proxy.call('edb_cache_metrics')).result.method_stats).length).toBeLessThanOrEqual(257)
    expect(process.memoryUsage.rss() - rssBefore).toBeLessThan(512 * 1024 * 1024)
  }, 180_000)
})
