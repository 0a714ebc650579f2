/**
 * Coalescing (SPEC §10): 1,000 identical concurrent cold requests through a fresh proxy, counted at a
 * forwarder in front of anvil (its own process: Bun caps one process's concurrent fetches).
 */
import { join } from 'node:path'
import { type BenchContext, SERVER_CORE } from '../lib/context.ts'
import type { Section } from '../lib/report.ts'
import { startCountingForwarder, startProxy } from '../lib/servers.ts'
import { spread } from '../lib/stats.ts'

const REQUESTS = 1_000

/** One burst per run, each on a block not asked before; upstream requests counted per burst. */
export async function measureCoalescing(context: BenchContext, anvilUrl: string): Promise<Section> {
  const { children, workDir, log } = context
  log(`coalescing: ${REQUESTS} identical cold requests, ${context.runs} times`)
  const forwarder = await startCountingForwarder(children, anvilUrl, SERVER_CORE)
  const proxy = await startProxy(children, forwarder.url, join(workDir, 'cache-coalescing'), SERVER_CORE)
  await waitForCache(proxy.url)
  const upstream: number[] = []
  const correct: number[] = []
  for (let run = 1; run <= context.runs; run++) {
    const block = `0x${(run + 4).toString(16)}`
    const body = `{"jsonrpc":"2.0","id":1,"method":"eth_getBlockByNumber","params":["${block}",true]}`
    const replies = await Promise.all(
      Array.from({ length: REQUESTS }, () =>
        fetch(proxy.url, { method: 'POST', body }).then(
          (response) => response.json() as Promise<any>,
          () => undefined,
        ),
      ),
    )
    correct.push(replies.filter((reply) => reply?.result?.number === block).length)
    const key = encodeURIComponent(`eth_getBlockByNumber["${block}",true]`)
    upstream.push(Number(await (await fetch(`${forwarder.url}/count?key=${key}`)).text()))
  }
  await proxy.child.stop()
  await forwarder.child.stop()
  return {
    title: 'Coalescing: 1,000 identical concurrent cold requests',
    rows: [],
    checks: [
      { label: 'upstream requests per burst', value: spread(upstream), unit: 'count', target: { op: '=', limit: 1 } },
      {
        label: 'correct answers per burst',
        value: spread(correct),
        unit: 'count',
        target: { op: '=', limit: REQUESTS },
      },
    ],
    notes: [],
  }
}

/** Wait until the proxy's cache is open (chain detected), so the burst meets a ready proxy. */
async function waitForCache(url: string): Promise<void> {
  for (let tries = 0; tries < 200; tries++) {
    const stats = (await (
      await fetch(url, { method: 'POST', body: '{"jsonrpc":"2.0","id":1,"method":"edb_cache_stats"}' })
    ).json()) as any
    if (String(stats.result?.cache_file_path).endsWith('.sqlite')) return
    await Bun.sleep(50)
  }
  throw new Error('the proxy cache did not open')
}
