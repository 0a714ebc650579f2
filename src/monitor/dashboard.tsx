import { Box, Text, useApp, useInput } from 'ink'
import { useEffect, useRef, useState } from 'react'
import { cacheableMethods } from '../rpc/methods.ts'
import { every } from '../util/every.ts'
import { callProxy, fetchSnapshot, type Snapshot } from './client.ts'
import { sanitizeText } from './sanitize.ts'
import { sparkline } from './sparkline.ts'

export const TABS = ['Overview', 'Providers', 'Cache', 'Methods', 'Instances', 'Streams'] as const

export type DashboardProps = { url: string; refreshMs: number; timeoutMs: number; initial: Snapshot }

const HISTORY_POINTS = 120

/** The monitor: six tabs over the proxy's `edb_*` methods, refreshed in the background. */
export function Dashboard({ url, refreshMs, timeoutMs, initial }: DashboardProps) {
  const { exit } = useApp()
  const [snapshot, setSnapshot] = useState(initial)
  const [tab, setTab] = useState(0)
  const [row, setRow] = useState(0)
  const [confirming, setConfirming] = useState(false)
  const [status, setStatus] = useState('')
  const [unreachable, setUnreachable] = useState('')
  const [series, setSeries] = useState({ hitRate: [] as number[], latency: [] as number[] })
  const inFlight = useRef(false)

  const refresh = () => {
    if (inFlight.current) return
    inFlight.current = true
    fetchSnapshot(url, timeoutMs)
      .then((next) => {
        setSnapshot(next)
        setSeries((previous) => ({
          hitRate: [...previous.hitRate, hitRateOf(next)].slice(-HISTORY_POINTS),
          latency: [...previous.latency, latencyOf(next)].slice(-HISTORY_POINTS),
        }))
        setUnreachable('')
      })
      .catch((error: Error) => setUnreachable(`unreachable: ${sanitizeText(error.message)}`))
      .finally(() => {
        inFlight.current = false
      })
  }

  // biome-ignore lint/correctness/useExhaustiveDependencies: one timer for the dashboard's life; refresh reads refs, not state
  useEffect(() => {
    const timer = every(refreshMs, refresh, { keepAlive: true })
    return () => timer.stop()
  }, [])

  useInput((input, key) => {
    if (confirming) {
      setConfirming(false)
      if (input === 'y' || input === 'Y') {
        setStatus('clearing the cache…')
        void clearCache(url, timeoutMs).then(
          (count) => setStatus(`cleared ${count} entries`),
          (error: Error) => setStatus(`clearing failed: ${sanitizeText(error.message)}`),
        )
      } else setStatus('clear cancelled')
      return
    }
    if (input === 'q' || key.escape || (key.ctrl && input === 'c')) return exit()
    setStatus('')
    if (key.tab && key.shift) return switchTab(-1)
    if (key.tab || key.rightArrow) return switchTab(1)
    if (key.leftArrow) return switchTab(-1)
    if (key.downArrow) return setRow((current) => current + 1)
    if (key.upArrow) return setRow((current) => Math.max(0, current - 1))
    if (input === 'r') return refresh()
    if (input === 'c') setConfirming(true)
  })

  const switchTab = (step: number) => {
    setTab((current) => (current + step + TABS.length) % TABS.length)
    setRow(0)
  }

  return (
    <Box flexDirection="column">
      <Box>
        <Text bold>edb-rpc-proxy monitor </Text>
        <Text dimColor wrap="truncate-end">
          {url}
        </Text>
      </Box>
      <Box>
        {TABS.map((name, index) => (
          <Text key={name} inverse={index === tab}>{` ${name} `}</Text>
        ))}
      </Box>
      <Box flexDirection="column" marginY={1}>
        {tab === 0 && <Overview snapshot={snapshot} series={series} />}
        {tab === 1 && <Providers snapshot={snapshot} row={row} />}
        {tab === 2 && <Cache snapshot={snapshot} />}
        {tab === 3 && <Methods snapshot={snapshot} row={row} />}
        {tab === 4 && <Instances snapshot={snapshot} row={row} />}
        {tab === 5 && <Streams snapshot={snapshot} row={row} />}
      </Box>
      {confirming ? (
        <Text color="yellow">Clear the whole cache? y to confirm, any other key to cancel</Text>
      ) : (
        <Text dimColor wrap="truncate-end">
          {unreachable || status || 'q quit · Tab/Shift-Tab switch · ↑↓ select · r refresh · c clear cache'}
        </Text>
      )}
    </Box>
  )
}

function Overview({ snapshot, series }: { snapshot: Snapshot; series: { hitRate: number[]; latency: number[] } }) {
  const { info, cacheStats, cacheMetrics, providers, requests } = snapshot
  const remoteHits = (snapshot.history?.cache_history ?? []).map((point: any) => Number(point.hit_rate))
  const remoteLatency = (snapshot.history?.provider_history ?? []).map((point: any) =>
    Number(point.avg_response_time_ms),
  )
  return (
    <Box flexDirection="column">
      <Line
        label="version"
        value={`${info?.version ?? '?'} · up ${formatDuration(info?.uptime)} · pid ${info?.pid ?? '?'}`}
      />
      <Line
        label="cache"
        value={`${cacheStats?.total_entries ?? '?'} entries (${cacheStats?.utilization ?? '?'} of ${cacheStats?.max_entries ?? '?'})`}
      />
      <Line
        label="hit rate"
        value={`${cacheMetrics?.hit_rate ?? '?'} of ${cacheMetrics?.total_requests ?? '?'} calls · errors ${cacheMetrics?.error_rate ?? '?'}`}
      />
      <Line
        label="requests"
        value={`${requests?.requests_per_minute ?? '?'}/min (peak ${requests?.peak_requests_per_minute ?? '?'}) · ${requests?.active_requests ?? '?'} active`}
      />
      <Line
        label="providers"
        value={`${providers?.healthy_count ?? '?'} healthy of ${providers?.total_count ?? '?'}`}
      />
      <Line label="hit rate %" value={sparkline([...remoteHits, ...series.hitRate], 60) || '(collecting)'} />
      <Line label="latency ms" value={sparkline([...remoteLatency, ...series.latency], 60) || '(collecting)'} />
    </Box>
  )
}

function Providers({ snapshot, row }: { snapshot: Snapshot; row: number }) {
  const list: any[] = snapshot.providers?.providers ?? []
  const metrics: any[] = snapshot.providerMetrics?.providers ?? []
  if (list.length === 0) return <Text dimColor>no providers (cache-only mode, or not reported)</Text>
  return (
    <Box flexDirection="column">
      <Text bold>
        {pad('state', 12)}
        {pad('latency', 10)}
        {pad('fails', 7)}
        {pad('requests', 10)}
        {pad('success', 9)}
        {pad('spend/s', 11)}
        {pad('429s', 6)}
        {pad('state from', 12)}url
      </Text>
      {list.map((provider, index) => {
        const metric = metrics.find((entry) => entry.url === provider.url)
        return (
          <Text key={provider.url} inverse={index === Math.min(row, list.length - 1)} wrap="truncate-end">
            {pad(provider.state ?? (provider.is_healthy ? 'healthy' : 'unhealthy'), 12)}
            {pad(provider.response_time_ms === null ? '-' : `${provider.response_time_ms} ms`, 10)}
            {pad(String(provider.consecutive_failures), 7)}
            {pad(String(metric?.request_count ?? '-'), 10)}
            {pad(metric?.success_rate ?? '-', 9)}
            {pad(spendOf(provider.budget), 11)}
            {pad(String(provider.budget?.rate_limits ?? '-'), 6)}
            {pad(depthOf(provider.history?.state), 12)}
            {provider.url}
          </Text>
        )
      })}
      <Text dimColor wrap="truncate-end">
        {learnedOf(list[Math.min(row, list.length - 1)])}
      </Text>
    </Box>
  )
}

/** Where a provider's history of one kind begins, as learned: a block, `none` (disabled), or `?` (not known yet). */
function depthOf(depth: unknown): string {
  if (depth === 'disabled') return 'none'
  if (depth === null || typeof depth !== 'object') return '?'
  const { oldest_block, missing_up_to } = depth as { oldest_block?: number | null; missing_up_to?: number | null }
  if (typeof oldest_block === 'number') return String(oldest_block)
  return typeof missing_up_to === 'number' ? `>${missing_up_to}` : '?'
}

/** The selected provider's learned facts (SPEC §6): its budget, history per kind, and the methods it lacks. */
function learnedOf(provider: any): string {
  if (provider === undefined) return ''
  const parts: string[] = []
  const budget = provider.budget
  if (typeof budget?.rps === 'number')
    parts.push(`budget ${budget.rps}/s (${budget.configured ? 'configured' : 'learned'})`)
  if (typeof budget?.waited_calls === 'number' && budget.waited_calls > 0)
    parts.push(`waited ${budget.waited_calls} calls, ${(budget.waited_ms / 1000).toFixed(1)} s`)
  const history = provider.history
  if (history !== null && typeof history === 'object') {
    parts.push(`eth_capabilities ${history.capabilities}`)
    for (const [kind, depth] of Object.entries(history))
      if (kind !== 'capabilities') parts.push(`${kind} from ${depthOf(depth)}`)
  }
  if (Array.isArray(provider.methods_refused) && provider.methods_refused.length > 0)
    parts.push(`lacks ${provider.methods_refused.join(', ')}`)
  return parts.length === 0 ? '' : `learned: ${parts.join(' · ')}`
}

/** Calls sent over the last second against the provider's budget (`12/20`, or `12` with none); `-` from a proxy that does not say. */
function spendOf(budget: { rps?: number | null; spent_last_second?: number } | undefined): string {
  if (budget === undefined || typeof budget.spent_last_second !== 'number') return '-'
  return typeof budget.rps === 'number' ? `${budget.spent_last_second}/${budget.rps}` : String(budget.spent_last_second)
}

function Cache({ snapshot }: { snapshot: Snapshot }) {
  const stats = snapshot.cacheStats
  const metrics = snapshot.cacheMetrics
  return (
    <Box flexDirection="column">
      <Line
        label="entries"
        value={`${stats?.total_entries ?? '?'} of ${stats?.max_entries ?? '?'} (${stats?.utilization ?? '?'})`}
      />
      <Line label="oldest" value={formatDuration(stats?.oldest_entry_age_seconds)} />
      <Line label="newest" value={formatDuration(stats?.newest_entry_age_seconds)} />
      <Line
        label="hits"
        value={`${metrics?.cache_hits ?? '?'} · misses ${metrics?.cache_misses ?? '?'} · hit rate ${metrics?.hit_rate ?? '?'}`}
      />
      <Line
        label="errors"
        value={`${metrics?.total_errors ?? '?'} (user ${metrics?.user_errors ?? '?'}, rate limit ${metrics?.rate_limit_errors ?? '?'})`}
      />
      <Line label="store" value={stats?.cache_file_path ?? '?'} />
      {stats?.prefetch !== undefined && (
        <Line
          label="prefetch"
          value={`${stats.prefetch.keys_stored} keys stored · ${stats.prefetch.keys_used} asked for (${stats.prefetch.useful_share}) · ${
            Object.entries(stats.prefetch.prefetches ?? {})
              .map(([outcome, count]) => `${outcome} ${count}`)
              .join(' · ') || 'no prefetch yet'
          }`}
        />
      )}
      {stats?.verification !== undefined && (
        <Line
          label="verified"
          value={`${stats.verification.share_verified} of state proven · ${stats.verification.verified} verified · ${stats.verification.unverifiable} unverifiable · ${stats.verification.failed} failed (${stats.verification.mode})`}
        />
      )}
    </Box>
  )
}

function Methods({ snapshot, row }: { snapshot: Snapshot; row: number }) {
  const entries = Object.entries(snapshot.cacheMetrics?.method_stats ?? {}) as [string, any][]
  entries.sort((a, b) => b[1].total_requests - a[1].total_requests)
  if (entries.length === 0) return <Text dimColor>no calls yet</Text>
  return (
    <Box flexDirection="column">
      <Text bold>
        {pad('calls', 9)}
        {pad('hits', 9)}
        {pad('errors', 8)}
        {pad('avg ms', 9)}method
      </Text>
      {entries.map(([name, stats], index) => (
        <Text key={name} inverse={index === Math.min(row, entries.length - 1)} wrap="truncate-end">
          {pad(String(stats.total_requests), 9)}
          {pad(String(stats.hits), 9)}
          {pad(String(stats.errors), 8)}
          {pad(Number(stats.avg_response_time_ms).toFixed(1), 9)}
          {name}
        </Text>
      ))}
    </Box>
  )
}

function Instances({ snapshot, row }: { snapshot: Snapshot; row: number }) {
  const pids: number[] = snapshot.instances?.active_instances ?? []
  if (pids.length === 0) return <Text dimColor>no registered debugger instances</Text>
  return (
    <Box flexDirection="column">
      <Text bold>{pids.length} active</Text>
      {pids.map((pid, index) => (
        <Text key={pid} inverse={index === Math.min(row, pids.length - 1)}>{`pid ${pid}`}</Text>
      ))}
    </Box>
  )
}

function Streams({ snapshot, row }: { snapshot: Snapshot; row: number }) {
  const streams = snapshot.streams
  if (streams === undefined) return <Text dimColor>no stream figures (this proxy does not report edb_streams)</Text>
  const { connections, subscriptions, counters } = streams
  const feeds: any[] = streams.feeds ?? []
  const source = (kind: string) => {
    const entry = (streams.sources ?? []).find((each: any) => each.kind === kind)
    if (entry === undefined) return '-'
    const sockets = (entry.sockets ?? []).map((socket: any) => `${socket.label} ${socket.up ? 'up' : 'down'}`)
    if (sockets.length === 0) return 'idle (no subscriber)'
    return `${entry.polling ? 'polling over HTTP · ' : ''}${sockets.join(' · ')}`
  }
  return (
    <Box flexDirection="column">
      <Line
        label="connections"
        value={`${connections?.open ?? '?'} open · ${connections?.accepted ?? '?'} accepted · ${connections?.refused ?? '?'} refused · ${connections?.slow_closed ?? '?'} closed as slow`}
      />
      <Line
        label="subscribed"
        value={`newHeads ${subscriptions?.newHeads ?? '?'} · logs ${subscriptions?.logs ?? '?'} · pending ${subscriptions?.newPendingTransactions ?? '?'}`}
      />
      <Line label="heads from" value={source('heads')} />
      <Line label="pending from" value={source('pending')} />
      <Line
        label="delivered"
        value={`${counters?.events_delivered ?? '?'} events · ${counters?.duplicates_dropped ?? '?'} duplicates dropped · ${counters?.gaps_filled ?? '?'} gaps filled (${counters?.blocks_filled ?? '?'} blocks) · ${counters?.reorgs ?? '?'} reorgs · ${counters?.restarts ?? '?'} restarts`}
      />
      <Text bold>
        {pad('subscribers', 13)}
        {pad('kind', 24)}filter
      </Text>
      {feeds.length === 0 && <Text dimColor>no feeds</Text>}
      {feeds.map((feed, index) => (
        <Text
          key={`${feed.kind}${feed.filter ?? ''}`}
          inverse={index === Math.min(row, feeds.length - 1)}
          wrap="truncate-end"
        >
          {pad(String(feed.subscribers), 13)}
          {pad(String(feed.kind), 24)}
          {feed.filter ?? ''}
        </Text>
      ))}
    </Box>
  )
}

function Line({ label, value }: { label: string; value: string }) {
  return (
    <Box>
      <Text dimColor>{pad(label, 12)}</Text>
      <Text wrap="truncate-end">{value}</Text>
    </Box>
  )
}

/** Delete every cacheable method's entries (the reference has no clear-all; this works against both). */
async function clearCache(url: string, timeoutMs: number): Promise<number> {
  let deleted = 0
  for (const method of cacheableMethods()) {
    const result = await callProxy(url, 'edb_deleteCache', timeoutMs, [method])
    deleted += Number(result?.deleted_count ?? 0)
  }
  return deleted
}

function hitRateOf(snapshot: Snapshot): number {
  const total = Number(snapshot.cacheMetrics?.total_requests ?? 0)
  return total === 0 ? 0 : (Number(snapshot.cacheMetrics?.cache_hits ?? 0) / total) * 100
}

function latencyOf(snapshot: Snapshot): number {
  const times = (snapshot.providers?.providers ?? [])
    .map((provider: any) => provider.response_time_ms)
    .filter((ms: unknown) => typeof ms === 'number')
  return times.length === 0 ? 0 : times.reduce((sum: number, ms: number) => sum + ms, 0) / times.length
}

function pad(text: string, width: number): string {
  return text.length >= width ? `${text.slice(0, width - 1)} ` : text.padEnd(width)
}

function formatDuration(seconds: unknown): string {
  if (typeof seconds !== 'number') return '-'
  if (seconds < 60) return `${seconds}s`
  if (seconds < 3600) return `${Math.floor(seconds / 60)}m ${seconds % 60}s`
  return `${Math.floor(seconds / 3600)}h ${Math.floor((seconds % 3600) / 60)}m`
}
