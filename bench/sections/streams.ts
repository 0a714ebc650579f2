/**
 * Streaming (SPEC §10, §12): 1,000 WebSocket clients on `newHeads` through one proxy, against a
 * naive Bun fan-out in the same run, and the chaos run (one of two upstream feeds stopped and
 * started again 100 times over 320 blocks). The load side runs as its own process
 * (`bench/stream-load.ts`), which starts the proxy pinned to the server core.
 */
import { join } from 'node:path'
import { type BenchContext, LOAD_CORE, SERVER_CORE } from '../lib/context.ts'
import type { Section } from '../lib/report.ts'
import { spread } from '../lib/stats.ts'

const CLIENTS = 1_000
const FAN_OUT_BLOCKS = 30
const CHAOS_CLIENTS = 20
const CHAOS_BLOCKS = 320
const CHAOS_RESTARTS = 100
const TIMEOUT_MS = 90_000

type Run = { feedsOpen?: number; p50Ms: number; p99Ms: number; missing: number; duplicates: number; outOfOrder: number }

export async function measureStreams(context: BenchContext, anvilUrl: string, pinned: boolean): Promise<Section> {
  const { log } = context
  log(`streams: ${CLIENTS} clients on newHeads, ${FAN_OUT_BLOCKS} blocks, proxy and a naive fan-out interleaved`)
  const fanOut = await runLoad(
    context,
    ['fanout', anvilUrl, join(context.workDir, 'cache-fanout'), String(CLIENTS), String(FAN_OUT_BLOCKS)],
    pinned,
  )
  log(`streams: chaos, ${CHAOS_CLIENTS} clients, ${CHAOS_BLOCKS} blocks, ${CHAOS_RESTARTS} feed restarts`)
  const chaos = await runLoad(
    context,
    [
      'chaos',
      anvilUrl,
      join(context.workDir, 'cache-chaos'),
      String(CHAOS_CLIENTS),
      String(CHAOS_BLOCKS),
      String(CHAOS_RESTARTS),
    ],
    pinned,
  )
  const proxy: Run[] = fanOut.runs.proxy
  const naive: Run[] = fanOut.runs.naive
  const ratio = (pick: (run: Run) => number) => spread(proxy.map((run, index) => pick(run) / pick(naive[index] as Run)))
  const added = spread(proxy.map((run, index) => run.p99Ms - (naive[index] as Run).p99Ms))
  const sum = (values: number[]) => values.reduce((total, value) => total + value, 0)
  const worst = (values: number[]) => Math.max(...values)
  return {
    title: 'Streams: fan-out to 1,000 WebSocket clients, and feeds killed under load',
    rows: [],
    checks: [
      {
        label: 'fan-out: upstream subscriptions feeding 1,000 clients (one provider)',
        value: spread(proxy.map((run) => run.feedsOpen ?? Number.NaN)),
        unit: 'count',
        target: { op: '=', limit: 1 },
      },
      { label: 'fan-out: event to last client, p50, proxy', value: spread(proxy.map((run) => run.p50Ms)), unit: 'ms' },
      { label: 'fan-out: event to last client, p99, proxy', value: spread(proxy.map((run) => run.p99Ms)), unit: 'ms' },
      {
        label: 'fan-out: event to last client, p99, naive fan-out',
        value: spread(naive.map((run) => run.p99Ms)),
        unit: 'ms',
      },
      {
        label: 'fan-out: p99 the proxy adds over the naive fan-out',
        value: added,
        unit: 'ms',
        target: { op: '<=', limit: 5 },
      },
      { label: 'fan-out: proxy / naive p50', value: ratio((run) => run.p50Ms), unit: 'x' },
      {
        label: 'fan-out: blocks missing, duplicated or out of order (all clients)',
        value: spread(proxy.map((run) => run.missing + run.duplicates + run.outOfOrder)),
        unit: 'count',
        target: { op: '=', limit: 0 },
      },
      {
        label: 'chaos: feed restarts',
        value: spread([chaos.restarts]),
        unit: 'count',
        target: { op: '>=', limit: CHAOS_RESTARTS },
      },
      {
        label: 'chaos: blocks missing, worst client',
        value: spread([worst(chaos.missing)]),
        unit: 'count',
        target: { op: '=', limit: 0 },
      },
      {
        label: 'chaos: blocks duplicated, worst client',
        value: spread([worst(chaos.duplicates)]),
        unit: 'count',
        target: { op: '=', limit: 0 },
      },
      {
        label: 'chaos: blocks out of order, worst client',
        value: spread([worst(chaos.outOfOrder)]),
        unit: 'count',
        target: { op: '=', limit: 0 },
      },
    ],
    notes: [
      `fan-out: the delay runs from anvil's event as a direct subscriber in the load process sees it to the moment the last of ${CLIENTS} clients (all in that one process) has it; the naive fan-out (bench/naive-fanout.ts: one upstream subscription, one send per client) measures what that floor is on this machine`,
      `chaos: ${CHAOS_CLIENTS} clients, ${CHAOS_BLOCKS} blocks mined 10 ms apart; the proxy filled ${chaos.counters.gaps_filled} gaps (${chaos.counters.blocks_filled} blocks) and dropped ${chaos.counters.duplicates_dropped} duplicates; ${sum(chaos.missing)} blocks missing in all`,
    ],
  }
}

async function runLoad(context: BenchContext, args: string[], pinned: boolean): Promise<any> {
  const child = context.children.start(
    'stream-load',
    [
      process.execPath,
      join(import.meta.dir, '..', 'stream-load.ts'),
      ...args,
      ...(pinned ? [String(SERVER_CORE)] : []),
    ],
    {
      core: LOAD_CORE,
    },
  )
  const line = await child.stdout.waitFor(/^\{.*\}$/m, TIMEOUT_MS)
  await child.exited
  return JSON.parse(line[0])
}
