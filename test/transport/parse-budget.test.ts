import { afterEach, describe, expect, test } from 'bun:test'
import { readFileSync } from 'node:fs'
import { estimateParseCost } from '../../src/rpc/parse-cost.ts'
import { createParseBudget } from '../../src/transport/parse-budget.ts'
import { type ProxyProcess, SOURCE_COMMAND, serverArgs, spawnProxy } from '../helpers/proxy.ts'

/** A body within the 32 MiB limit made of empty objects: `{"jsonrpc":"2.0","id":1,"method":"x","params":[[{},{},...]]}`. */
function emptyObjects(bytes: number): string {
  const head = '{"jsonrpc":"2.0","id":1,"method":"eth_call","params":[['
  const count = Math.floor((bytes - head.length - 4) / 3)
  return `${head}${'{},'.repeat(count)}{}]]}`
}

describe('parse cost', () => {
  test('default', () => {
    const call = '{"jsonrpc":"2.0","id":1,"method":"eth_chainId","params":[]}'
    expect(createParseBudget().admit(call).cost).toBeGreaterThan(0)
  })

  test('behavior: empty objects cost far more than their text; strings of data do not', () => {
    const objects = emptyObjects(1 << 20)
    const data = `{"jsonrpc":"2.0","id":1,"method":"eth_call","params":[{"data":"0x${'ab'.repeat(1 << 19)}"},"latest"]}`
    expect(estimateParseCost(objects) / objects.length).toBeGreaterThan(16)
    expect(estimateParseCost(data) / data.length).toBeLessThan(3)
    // Braces inside strings are text, not objects.
    expect(estimateParseCost(`"${'{'.repeat(1 << 17)}"`)).toBeLessThan(4 * (1 << 17))
  })

  test('behavior: a costly body is refused with 413; a busy moment with 503; releasing makes room', () => {
    const budget = createParseBudget({ maxInFlightBytes: 64 << 20 })
    expect(budget.admit(emptyObjects(4 << 20))).toMatchObject({ status: 413, error: { code: -32600 } })
    const big = `"${'a'.repeat(20 << 20)}"`
    const first = budget.admit(big)
    expect(first.cost).toBeGreaterThan(0)
    expect(budget.admit(big)).toMatchObject({ status: 503, error: { code: -32005 } })
    budget.release(first.cost!)
    expect(budget.admit(big).cost).toBeGreaterThan(0)
  })
})

describe('one request, gigabytes (SPEC §8)', () => {
  let proxy: ProxyProcess | undefined
  afterEach(async () => {
    proxy?.process.kill('SIGKILL')
    await proxy?.exited
  })

  test('behavior: eight concurrent 32 MiB bodies of empty objects are refused with 413, and the proxy stays small and serving', async () => {
    proxy = await spawnProxy(SOURCE_COMMAND, serverArgs(''))
    const body = emptyObjects((32 << 20) - 1024)
    const replies = await Promise.all(
      Array.from({ length: 8 }, async () => {
        const response = await fetch(proxy!.url!, { method: 'POST', body })
        return { status: response.status, code: ((await response.json()) as any).error.code }
      }),
    )
    expect(replies).toEqual(Array.from({ length: 8 }, () => ({ status: 413, code: -32600 })))
    const peakMiB =
      Number(/^VmHWM:\s+(\d+) kB$/m.exec(readFileSync(`/proc/${proxy.process.pid}/status`, 'utf8'))?.[1]) / 1024
    // Eight bodies' text is 256 MiB; parsing them would have taken gigabytes.
    expect(peakMiB).toBeLessThan(1024)
    const ping = await fetch(proxy.url!, { method: 'POST', body: '{"jsonrpc":"2.0","id":1,"method":"edb_ping"}' })
    expect(((await ping.json()) as any).result.status).toBe('ok')
  })
})
