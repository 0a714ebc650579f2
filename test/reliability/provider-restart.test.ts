import { afterAll, describe, expect, test } from 'bun:test'
import { type Anvil, startAnvil } from '../helpers/anvil.ts'
import { startProxy, type TestProxy } from '../helpers/proxy.ts'
import { waitFor } from '../helpers/wait.ts'

const started: Anvil[] = []
let proxy: TestProxy | undefined
afterAll(async () => {
  await proxy?.stop()
  for (const anvil of started) await anvil.stop()
})

async function anvil(args: string[] = []): Promise<Anvil> {
  const node = await startAnvil(args)
  started.push(node)
  return node
}

describe('provider restart under load', () => {
  test('behavior: sustained load while one of two providers is killed and restarted: zero client errors', async () => {
    const steady = await anvil()
    let flaky = await anvil()
    const flakyPort = flaky.port
    proxy = await startProxy({
      rpcUrls: [steady.url, flaky.url],
      devChain: 'no',
      healthCheckInterval: 1,
      upstreamTimeoutMs: 2_000,
    })
    await proxy.cacheReady
    const errors: unknown[] = []
    let calls = 0
    let running = true
    const worker = async (index: number) => {
      while (running) {
        const reply = await proxy!.call(
          'eth_getBalance',
          ['0xf39Fd6e51aad88F6F4ce6aB8827279cffFb92266', 'latest'],
          `${index}-${calls}`,
        )
        calls++
        if (reply.error !== undefined || typeof reply.result !== 'string') errors.push(reply)
      }
    }
    const workers = Array.from({ length: 8 }, (_, index) => worker(index))
    const waitCalls = (target: number) => waitFor(() => calls >= target || errors.length > 0, `${target} calls`, 60_000)
    await waitCalls(300)
    await flaky.stop()
    await waitCalls(calls + 600)
    const flakyView = async () =>
      (await proxy!.call('edb_providers')).result.providers.find((entry: any) => entry.url === flaky.url)
    await waitFor(
      async () => (await flakyView()).is_healthy === false,
      'the killed provider to be marked unhealthy',
      30_000,
    )
    // the same address again: the health checks bring it back
    flaky = await anvil(['--port', String(flakyPort)])
    await waitFor(async () => (await flakyView()).is_healthy === true, 'a health check to bring it back', 30_000)
    await waitCalls(calls + 600)
    running = false
    await Promise.all(workers)
    expect({ calls: calls > 1_500, errors }).toEqual({ calls: true, errors: [] })
  }, 120_000)
})
