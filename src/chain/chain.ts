import type { Provider } from '../providers/provider.ts'
import type { Outcome, RpcCall } from '../rpc/types.ts'
import { detectChain } from './detect.ts'
import { isDevChain } from './dev-chain.ts'
import { type ChainView, createHeadTracker, type HeadTracker } from './head-tracker.ts'

export type ChainOptions = {
  providers: readonly Provider[]
  /** One call upstream through failover, not counted as a client call. */
  send: (call: RpcCall) => Promise<Outcome>
  /** The same call to up to two distinct healthy providers (for the head and the finalized block). */
  askSeveral?: (call: RpcCall) => Promise<Outcome[]>
  /** `--chain-id`: the chain of cache-only mode, and a check on the upstreams otherwise. */
  chainId: number | undefined
  devChain: 'auto' | 'yes' | 'no'
  finalityDepth: number
  /** Longest one detection round waits for answers. */
  detectionTimeoutMs: number
  /** Longest pause between detection rounds while no provider answers (the health-check interval). */
  maxDetectionPauseMs: number
  /** How often the view is refreshed when nobody calls (the health-check interval). */
  idleRefreshMs: number
  /** Asked alongside the first detection round, and awaited with it (what each provider holds, SPEC §6). */
  alongside?: () => Promise<void>
  /** A provider did not answer at detection: it starts unhealthy. */
  onSilent: (provider: Provider) => void
  /** The chain was found restarted or reset under the proxy. */
  onReset: (reason: string) => void
  warn: (message: string) => void
}

/** What the chain turned out to be. */
export type ChainInfo = { chainId: number; devChain: boolean }

/** What the proxy knows of the chain it serves: its id, whether it is a dev chain, and a synchronous view of its head. */
export type Chain = {
  /** Known once detection is done (always, in cache-only mode). */
  readonly info: ChainInfo | undefined
  readonly devChain: boolean
  readonly view: ChainView
  /** Resolves once id, client and (with upstreams) head and finalized block are known; rejects on a startup error. */
  readonly known: Promise<ChainInfo>
  /** Begin detection (once the server listens: binding comes first, SPEC §3). */
  start(): void
  /** A call is flowing: keep the view fresh. */
  touch(): void
  /** Refresh the view now (a dev chain's fingerprint included). */
  refresh(): Promise<void>
  /** A history rewrite passed through the proxy. */
  rebase(): void
  /** A provider failed to answer: a dev chain is verified again before its cache serves. */
  suspect(): void
  /** A provider reported its head. */
  observeHead(block: number): void
  stop(): void
}

/** Before detection: nothing is final, nothing is trusted. */
const UNKNOWN_VIEW: ChainView = { head: -1, finalized: -1, isFinal: () => false, trusted: false }
/** Cache-only mode: nothing is ever fetched, so nothing new is stored; what is stored (or imported) is served. */
const CACHE_ONLY_VIEW: ChainView = { head: -1, finalized: -1, isFinal: () => true, trusted: true }

/**
 * Chain detection, then one head tracker (SPEC §5.1, §6). Runs alongside binding: every provider is
 * asked `eth_chainId` and `web3_clientVersion`; while none answers, it warns and tries again with a
 * growing pause. Once known, the tracker learns head and finalized block before `known` resolves,
 * so the cache never opens without knowing what is final.
 */
export function createChain(options: ChainOptions): Chain {
  let info: ChainInfo | undefined
  let tracker: HeadTracker | undefined
  let stopped = false
  /** A history rewrite passed through before the tracker existed: its first view may predate it. */
  let rebasedEarly = false
  let pause: { timer: ReturnType<typeof setTimeout>; resolve: () => void } | undefined

  const detect = async (): Promise<ChainInfo> => {
    if (options.providers.length === 0) {
      info = { chainId: options.chainId ?? 1, devChain: options.devChain === 'yes' }
      return info
    }
    for (let pauseMs = 1_000, round = 0; ; pauseMs = Math.min(pauseMs * 2, options.maxDetectionPauseMs), round++) {
      const [detection] = await Promise.all([
        detectChain(options.providers, options.detectionTimeoutMs),
        round === 0 ? options.alongside?.() : undefined,
      ])
      for (const provider of detection.silent) {
        options.warn(`${provider.label} did not answer eth_chainId; it stays unhealthy until it answers`)
        options.onSilent(provider)
      }
      if (detection.chainId !== undefined) {
        if (options.chainId !== undefined && options.chainId !== detection.chainId) {
          throw new Error(`--chain-id ${options.chainId} does not match the upstreams' chain ${detection.chainId}`)
        }
        const devChain =
          options.devChain === 'yes' ||
          (options.devChain === 'auto' && isDevChain(detection.chainId, detection.clientVersions))
        tracker = createHeadTracker({
          send: options.send,
          askSeveral: options.askSeveral,
          finalityDepth: options.finalityDepth,
          devChain,
          idleRefreshMs: options.idleRefreshMs,
          onReset: options.onReset,
        })
        await tracker.refresh()
        if (rebasedEarly) {
          tracker.rebase()
          await tracker.refresh()
        }
        if (!stopped) tracker.start()
        info = { chainId: detection.chainId, devChain }
        return info
      }
      if (stopped) throw new Error('stopped before any upstream answered eth_chainId')
      options.warn(`no upstream answered eth_chainId; caching waits, trying again in ${pauseMs / 1000} s`)
      await new Promise<void>((resolve) => {
        pause = { timer: setTimeout(resolve, pauseMs), resolve }
      })
      if (stopped) throw new Error('stopped before any upstream answered eth_chainId')
    }
  }
  let begin!: () => void
  const started = new Promise<void>((resolve) => {
    begin = resolve
  })
  const known = started.then(detect)
  known.catch(() => {})

  return {
    get info() {
      return info
    },
    get devChain() {
      // Until detection says, a rewrite is treated as one (emptying a cache not yet open costs nothing).
      return info?.devChain ?? options.devChain !== 'no'
    },
    get view() {
      return tracker ?? (info === undefined ? UNKNOWN_VIEW : CACHE_ONLY_VIEW)
    },
    known,
    start: () => begin(),
    touch: () => tracker?.touch(),
    refresh: () => tracker?.refresh() ?? Promise.resolve(),
    rebase() {
      if (tracker === undefined) rebasedEarly = true
      else tracker.rebase()
    },
    suspect: () => tracker?.suspect(),
    observeHead: (block) => tracker?.observeHead(block),
    stop() {
      stopped = true
      tracker?.stop()
      if (pause !== undefined) {
        clearTimeout(pause.timer)
        pause.resolve()
      }
    },
  }
}
