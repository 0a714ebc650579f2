import { parseQuantityJson } from '../rpc/quantity.ts'
import { type Every, every } from '../util/every.ts'
import { QueueFullError } from './attempt-slots.ts'
import type { BreakerOptions } from './breaker.ts'
import { isHealthy, markProbed, type Provider, quarantine, recordFailure, recordSuccess, release } from './provider.ts'
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
  /** A provider reported its head (the probe's `eth_blockNumber`). */
  onHead?: (block: number) => void
  /** A probe got no answer. */
  onProbeFailed?: (provider: Provider) => void
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
 * Every interval, probe every provider, busy or not (SPEC §6: an endpoint re-pointed at another
 * chain is quarantined within one interval), with `eth_blockNumber` (which also tracks the head)
 * and `eth_chainId`, compared as a number. A good probe closes the circuit; a wrong chain quarantines.
 */
export function createHealthChecker(options: HealthCheckOptions): HealthChecker {
  const now = options.now ?? Date.now
  let timer: Every | undefined

  const probe = async (provider: Provider) => {
    const startedAt = now()
    const wasHealthy = isHealthy(provider)
    markProbed(provider, startedAt)
    try {
      const head = await postToProvider(provider, BLOCK_NUMBER, {
        timeoutMs: options.timeoutMs,
        maxResponseBytes: 4096,
      })
      const block = head.kind === 'result' ? parseQuantityJson(head.resultJson) : undefined
      if (block === undefined) throw new Error('no block number')
      const latencyMs = now() - startedAt
      const chain = await postToProvider(provider, CHAIN_ID, { timeoutMs: options.timeoutMs, maxResponseBytes: 4096 })
      // Verified only by an answer: an error or a rate limit here proves nothing about the chain.
      if (chain.kind !== 'result') throw new Error('no chain id')
      const expected = options.chainId()
      if (expected !== undefined && parseQuantityJson(chain.resultJson) !== expected) {
        if (!provider.quarantined) options.onQuarantine(provider, chain.resultJson)
        quarantine(provider)
        return
      }
      release(provider)
      recordSuccess(provider, latencyMs, options.breaker)
      options.onHead?.(block)
      if (!wasHealthy) options.onRecovered(provider)
    } catch (error) {
      // Over its budget: the provider is busy, not down.
      if (error instanceof QueueFullError) return
      options.onProbeFailed?.(provider)
      if (recordFailure(provider, options.breaker, now())) options.onCircuitOpen(provider)
    }
  }

  const checkNow = async () => {
    await Promise.all(options.providers.map(probe))
  }

  return {
    start() {
      timer ??= every(options.intervalMs, () => void checkNow())
    },
    stop() {
      timer?.stop()
      timer = undefined
    },
    checkNow,
  }
}
