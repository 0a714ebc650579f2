import type { BreakerOptions } from './breaker.ts'
import { isHealthy, recordFailure, recordSuccess, type Provider } from './provider.ts'
import { postToProvider } from './upstream.ts'

export type HealthCheckOptions = {
  providers: readonly Provider[]
  /** `--health-check-interval`, in ms. */
  intervalMs: number
  timeoutMs: number
  breaker: BreakerOptions
  /** The chain the proxy serves, once known. */
  chainId: () => number | undefined
  onQuarantine: (provider: Provider, chainId: string) => void
  onRecovered: (provider: Provider) => void
  onCircuitOpen: (provider: Provider) => void
  now?: () => number
}

/** Background health checks (SPEC §6), never inside a client request. */
export type HealthChecker = {
  start(): void
  stop(): void
  /** Probe every provider that needs it now, in parallel; resolves when all are done. */
  checkNow(): Promise<void>
}

const BLOCK_NUMBER = '{"jsonrpc":"2.0","id":1,"method":"eth_blockNumber","params":[]}'
const CHAIN_ID = '{"jsonrpc":"2.0","id":2,"method":"eth_chainId","params":[]}'

/**
 * Every interval, probe the providers that are not healthy (open, half-open or quarantined) or
 * whose last sign of life is older than the interval, with `eth_blockNumber` (which also tracks the
 * head) and `eth_chainId` (chain safety). A good probe closes the circuit; a wrong chain quarantines.
 */
export function createHealthChecker(options: HealthCheckOptions): HealthChecker {
  const now = options.now ?? Date.now
  let timer: ReturnType<typeof setInterval> | undefined

  const needsProbe = (provider: Provider) => {
    if (!isHealthy(provider)) return true
    const lastSign = Math.max(provider.lastHealthCheckMs ?? 0, provider.lastUsedMs ?? 0)
    return now() - lastSign >= options.intervalMs
  }

  const probe = async (provider: Provider) => {
    const startedAt = now()
    const wasHealthy = isHealthy(provider)
    provider.lastHealthCheckMs = startedAt
    try {
      const head = await postToProvider(provider, BLOCK_NUMBER, { timeoutMs: options.timeoutMs, maxResponseBytes: 4096 })
      if (head.kind !== 'result') throw new Error('no block number')
      const latencyMs = now() - startedAt
      const chain = await postToProvider(provider, CHAIN_ID, { timeoutMs: options.timeoutMs, maxResponseBytes: 4096 })
      const expected = options.chainId()
      if (chain.kind === 'result' && expected !== undefined && JSON.parse(chain.resultJson) !== `0x${expected.toString(16)}`) {
        if (!provider.quarantined) options.onQuarantine(provider, chain.resultJson)
        provider.quarantined = true
        return
      }
      provider.quarantined = false
      recordSuccess(provider, latencyMs, options.breaker)
      if (!wasHealthy) options.onRecovered(provider)
    } catch {
      if (recordFailure(provider, options.breaker, now())) options.onCircuitOpen(provider)
    }
  }

  const checkNow = async () => {
    await Promise.all(options.providers.filter(needsProbe).map(probe))
  }

  return {
    start() {
      timer ??= setInterval(() => void checkNow(), options.intervalMs)
      ;(timer as { unref?: () => void }).unref?.()
    },
    stop() {
      clearInterval(timer)
      timer = undefined
    },
    checkNow,
  }
}
