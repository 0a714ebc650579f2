import { afterEach, describe, expect, test } from 'bun:test'
import { createProvider, type Provider } from '../../src/providers/provider.ts'
import { createUnsupportedMethods } from '../../src/providers/unsupported-methods.ts'
import { startProxy, type TestProxy } from '../helpers/proxy.ts'
import { rpcErrorResponse, type ScriptedUpstream, startScriptedUpstream } from '../helpers/upstream.ts'

const cleanup: (() => Promise<void>)[] = []
afterEach(async () => {
  while (cleanup.length > 0) await cleanup.pop()!()
})

function upstream(handler: Parameters<typeof startScriptedUpstream>[0]): ScriptedUpstream {
  const server = startScriptedUpstream((call, hit) => (call?.method === 'eth_chainId' ? '0x1' : handler(call, hit)))
  cleanup.push(() => server.stop())
  return server
}

async function proxyFor(urls: string[]): Promise<TestProxy> {
  const proxy = await startProxy({ rpcUrls: urls, devChain: 'no' })
  cleanup.unshift(() => proxy.stop())
  return proxy
}

const asked = (server: ScriptedUpstream, method: string) =>
  server.hits.filter((hit) => hit.body?.method === method).length
const lacking = (call: any) =>
  rpcErrorResponse(call, -32601, `the method ${call.method} does not exist/is not available`)

describe('methods every provider lacks', () => {
  test('behavior: once the only provider said anvil_nodeInfo does not exist, later calls get that error without asking it', async () => {
    const remote = upstream((call) => (call.method === 'anvil_nodeInfo' ? lacking(call) : '0x1'))
    const proxy = await proxyFor([remote.url])
    const first = await proxy.call('anvil_nodeInfo', [], 1)
    expect(first.error).toEqual({ code: -32601, message: 'the method anvil_nodeInfo does not exist/is not available' })
    for (let id = 2; id <= 5; id++) expect(await proxy.call('anvil_nodeInfo', [], id)).toEqual({ ...first, id })
    expect(asked(remote, 'anvil_nodeInfo')).toBe(1)
  })

  test('behavior: a method one provider lacks is asked of the other first, and answered', async () => {
    const without = upstream((call) => (call.method === 'trace_block' ? lacking(call) : '0x1'))
    const withIt = upstream((call) => (call.method === 'trace_block' ? [{ traced: call.params[0] }] : '0x1'))
    const proxy = await proxyFor([without.url, withIt.url])
    const answers = []
    for (let block = 1; block <= 12; block++)
      answers.push(await proxy.call('trace_block', [`0x${block.toString(16)}`], block))
    // The provider without it is asked at most once: from then on the other one comes first.
    expect(asked(without, 'trace_block')).toBeLessThanOrEqual(1)
    expect(answers.filter((answer) => answer.error !== undefined).length).toBe(asked(without, 'trace_block'))
    expect(answers.at(-1)).toEqual({ jsonrpc: '2.0', id: 12, result: [{ traced: '0xc' }] })
  })

  test('behavior: a standard method every provider lacks is remembered too, whatever its namespace (SPEC §6)', async () => {
    const remote = upstream((call) => (call.method === 'eth_newFancyThing' ? lacking(call) : '0x1'))
    const proxy = await proxyFor([remote.url])
    for (let id = 1; id <= 3; id++) expect((await proxy.call('eth_newFancyThing', [], id)).error.code).toBe(-32601)
    expect(asked(remote, 'eth_newFancyThing')).toBe(1)
  })
})

describe('the memory of unsupported methods', () => {
  const provider = (): Provider =>
    createProvider('http://127.0.0.1:1', { maxFailures: 3, baseCooldownMs: 1, maxCooldownMs: 1 })
  const NOT_FOUND = { code: -32601, message: 'not found' }

  test('behavior: it lasts its rest period, and any other answer forgets a provider’s "no"', () => {
    let at = 0
    const memory = createUnsupportedMethods({ restMs: 1_000, now: () => at })
    const [a, b] = [provider(), provider()]
    memory.observe(a, 'anvil_nodeInfo', NOT_FOUND)
    expect(memory.known('anvil_nodeInfo', [a, b])).toBeUndefined()
    memory.observe(b, 'anvil_nodeInfo', NOT_FOUND)
    expect(memory.known('anvil_nodeInfo', [a, b])).toEqual(NOT_FOUND)
    at = 999
    expect(memory.known('anvil_nodeInfo', [a, b])).toEqual(NOT_FOUND)
    at = 1_000
    expect(memory.known('anvil_nodeInfo', [a, b])).toBeUndefined()
    memory.observe(a, 'anvil_nodeInfo', NOT_FOUND)
    memory.observe(b, 'anvil_nodeInfo', NOT_FOUND)
    memory.observe(b, 'anvil_nodeInfo', undefined)
    expect(memory.known('anvil_nodeInfo', [a, b])).toBeUndefined()
    // Other errors are not "unsupported".
    memory.observe(b, 'anvil_nodeInfo', { code: 3, message: 'execution reverted' })
    expect(memory.known('anvil_nodeInfo', [b])).toBeUndefined()
  })

  test('behavior: method names are client input: at most 256 are remembered', () => {
    const memory = createUnsupportedMethods({ restMs: 1_000 })
    const a = provider()
    for (let index = 0; index < 300; index++) memory.observe(a, `x_garbage${index}`, NOT_FOUND)
    expect(memory.known('x_garbage255', [a])).toEqual(NOT_FOUND)
    expect(memory.known('x_garbage256', [a])).toBeUndefined()
    expect(memory.known('x_garbage0', [])).toBeUndefined()
  })
})
