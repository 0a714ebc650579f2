import { createHash } from 'node:crypto'
import { gunzipSync, gzipSync } from 'node:zlib'
import type { RedisConnection } from '../platform/index.ts'
import { every } from '../util/every.ts'
import { TimeoutError, withTimeout } from '../util/with-timeout.ts'
import type { CachePlan } from './policy.ts'

/** Where the shared tier is, and how it behaves. */
export type SharedTierOptions = {
  /** Opens a connection (the platform's client); undefined: this runtime has none. */
  open: () => RedisConnection | undefined
  /** The redacted URL, for logs and stats. */
  label: string
  /** Texts never to print (the URL as given, its password): scrubbed from any error message. */
  secrets: readonly string[]
  /** Namespace: `<prefix><chain id>:<method>:<hash>`. */
  prefix: string
  chainId: number
  /** Longest a lookup may wait on the request path before it counts as a miss (and a failure). */
  timeoutMs: number
  warn(message: string): void
  info(message: string): void
  /** Pause between reconnect attempts while the tier is down. */
  retryMs?: number
  /** Bytes of stores waiting to be written; beyond it new ones are dropped (counted). */
  maxQueuedBytes?: number
  /** Answers larger than this are not shared (they would hold the connection past the lookup timeout). */
  maxValueBytes?: number
  /** Values at least this long are gzipped. */
  compressAtBytes?: number
}

/** What the tier did, for `edb_cache_stats`, `/health` and `/metrics`. */
export type SharedTierStatus = {
  url: string
  state: 'up' | 'down'
  hits: number
  misses: number
  writes: number
  errors: number
  dropped: number
}

/** The shared cache tier (SPEC §7): memory, then the local store, then this. */
export type SharedTier = {
  /** A final answer another proxy stored, checked against the full key; undefined on a miss, an error or a timeout. */
  lookup(plan: CachePlan): Promise<string | undefined>
  /** Queue a final answer for the next background batch (never on the request path). */
  put(plan: CachePlan, resultJson: string): void
  /** Delete a method's entries of this chain; resolves with how many went. */
  deleteMethod(method: string): Promise<number>
  /** Delete one call's entry; resolves with how many went (0 or 1). */
  deleteCall(plan: CachePlan): Promise<number>
  /**
   * Any other command on the tier's connection, bounded by the lookup timeout; undefined while the
   * tier is down (an error takes it down, like a failed lookup). For shared rate limits.
   */
  send(command: string, args: string[]): Promise<unknown> | undefined
  status(): SharedTierStatus
  stop(): void
}

const RAW = 0
const GZIP = 1
const FLUSH_EVERY_MS = 25
const WRITE_TIMEOUT_MS = 1_000
const DELETE_TIMEOUT_MS = 2_000
const CONNECT_TIMEOUT_MS = 2_000
const MAX_BATCH = 500
const FAILURES_BEFORE_DOWN = 3

/**
 * A Redis tier that is never a new way to fail (SPEC §7): each lookup is bounded by a timeout of a
 * few milliseconds; any error takes the tier out (said once), a background loop reconnects and
 * says so when it is back; stores are written in batches in the background, and dropped (counted)
 * when the queue is full. Every entry carries its full canonical key, compared on every hit, so a
 * hash collision, or a key written by anyone else, is never served.
 */
export function createSharedTier(options: SharedTierOptions): SharedTier {
  const secrets = options.secrets.filter((secret) => secret.length > 0)
  const describe = (error: unknown): string => {
    let message = error instanceof Error ? error.message : String(error)
    for (const secret of secrets) message = message.replaceAll(secret, '<redacted>')
    return message
  }
  const retryMs = options.retryMs ?? 1_000
  const maxQueuedBytes = options.maxQueuedBytes ?? 64 << 20
  const maxValueBytes = options.maxValueBytes ?? 1 << 20
  const compressAtBytes = options.compressAtBytes ?? 1_024
  const status: SharedTierStatus = {
    url: options.label,
    state: 'down',
    hits: 0,
    misses: 0,
    writes: 0,
    errors: 0,
    dropped: 0,
  }
  let connection: RedisConnection | undefined
  let queue: { plan: CachePlan; resultJson: string }[] = []
  let queuedBytes = 0
  /** Failures in a row: one slow answer is a miss, three take the tier out. */
  let failures = 0
  let stopped = false
  let retry: ReturnType<typeof setTimeout> | undefined
  let saidDown = false
  /** One batch in flight at a time: a slow Redis never piles up writes. */
  let writing = false

  const redisKey = (method: string, key: string) =>
    `${options.prefix}${options.chainId}:${method}:${createHash('sha256').update(key).digest('hex').slice(0, 40)}`

  const down = (reason: string) => {
    failures = 0
    queue = []
    queuedBytes = 0
    if (status.state === 'down' && connection === undefined) return
    status.state = 'down'
    connection?.close()
    connection = undefined
    if (!saidDown)
      options.warn(
        `shared cache ${options.label} unavailable (${reason}): serving without it, reconnecting in the background`,
      )
    saidDown = true
    schedule()
  }

  const schedule = () => {
    if (stopped || retry !== undefined) return
    retry = setTimeout(() => {
      retry = undefined
      void connect()
    }, retryMs)
    ;(retry as { unref?: () => void }).unref?.()
  }

  const connect = async () => {
    if (stopped) return
    let opened: RedisConnection | undefined
    try {
      opened = options.open()
    } catch (error) {
      status.errors += 1
      if (!saidDown) options.warn(`shared cache ${options.label} unavailable (${describe(error)}): serving without it`)
      saidDown = true
      return schedule()
    }
    if (opened === undefined) {
      if (!saidDown) options.warn(`shared cache ${options.label}: this runtime has no Redis client; serving without it`)
      saidDown = true
      return
    }
    try {
      const candidate = opened
      await withTimeout(
        (async () => {
          await candidate.connect()
          await candidate.send('PING', [])
        })(),
        CONNECT_TIMEOUT_MS,
      )
    } catch (error) {
      opened.close()
      status.errors += 1
      if (!saidDown)
        options.warn(
          `shared cache ${options.label} unavailable (${describe(error)}): serving without it, reconnecting in the background`,
        )
      saidDown = true
      return schedule()
    }
    if (stopped) return opened.close()
    connection = opened
    // A restarted or killed Redis is noticed at once, not at the next lookup.
    opened.onLost(() => {
      if (connection !== opened) return
      status.errors += 1
      down('connection lost')
    })
    status.state = 'up'
    if (saidDown) options.info(`shared cache ${options.label} is back`)
    saidDown = false
  }

  const flush = every(FLUSH_EVERY_MS, () => {
    if (connection === undefined || queue.length === 0) return
    if (writing) return
    const batch = queue.splice(0, MAX_BATCH)
    for (const entry of batch) queuedBytes -= entry.resultJson.length
    writing = true
    // Encoded here, in the background, never on the request path.
    const encoded = batch.map((entry) => ({
      key: redisKey(entry.plan.method, entry.plan.key),
      value: encode(entry.plan.key, entry.resultJson, compressAtBytes),
    }))
    // Auto-pipelined: the batch goes out as one write; a Redis that stalls fails it after WRITE_TIMEOUT_MS.
    void bounded(
      (current) => Promise.all(encoded.map((entry) => current.set(entry.key, entry.value))),
      WRITE_TIMEOUT_MS,
      true,
    )
      .then(
        () => {
          status.writes += batch.length
        },
        () => {},
      )
      .finally(() => {
        writing = false
      })
  })

  void connect()

  /**
   * `work` on the connection, within the timeout; rejects on failure. An error counts toward taking
   * the tier out; a timeout only where waiting long proves trouble (a write batch after 1 s), not
   * on the request path, where a busy event loop alone can pass a few milliseconds.
   */
  const bounded = async <T>(
    work: (current: RedisConnection) => Promise<T>,
    timeoutMs = options.timeoutMs,
    timeoutIsFailure = false,
  ): Promise<T> => {
    const current = connection
    if (current === undefined) throw new Error('down')
    try {
      const result = await withTimeout(work(current), timeoutMs)
      failures = 0
      return result
    } catch (error) {
      if (timeoutIsFailure || !(error instanceof TimeoutError)) failed(error)
      throw error
    }
  }

  /** One failed command: the tier goes out after three in a row (a lost connection takes it out at once). */
  const failed = (error: unknown) => {
    status.errors += 1
    failures += 1
    if (failures >= FAILURES_BEFORE_DOWN) down(describe(error))
  }

  return {
    send: (command, args) => (connection === undefined ? undefined : bounded((current) => current.send(command, args))),
    async lookup(plan) {
      if (connection === undefined) return undefined
      let value: Uint8Array | null
      try {
        value = await bounded((current) => current.getBytes(redisKey(plan.method, plan.key)))
      } catch {
        status.misses += 1
        return undefined
      }
      const entry = value === null ? undefined : decode(value)
      if (entry === undefined || entry.key !== plan.key) {
        status.misses += 1
        return undefined
      }
      status.hits += 1
      return entry.resultJson
    },
    put(plan, resultJson) {
      // Nothing piles up while the tier is out (queued while it first connects), and nothing too large to read back in time is shared.
      if (saidDown || resultJson.length > maxValueBytes || queuedBytes + resultJson.length > maxQueuedBytes) {
        status.dropped += 1
        return
      }
      queue.push({ plan, resultJson })
      queuedBytes += resultJson.length
    },
    async deleteMethod(method) {
      const current = connection
      if (current === undefined) return 0
      // The name is a literal: `eth_get*` must never match other methods' entries.
      const pattern = `${escapeGlob(`${options.prefix}${options.chainId}:${method}:`)}*`
      let cursor = '0'
      let deleted = 0
      do {
        const [next, keys] = (await withTimeout(
          current.send('SCAN', [cursor, 'MATCH', pattern, 'COUNT', '1000']),
          DELETE_TIMEOUT_MS,
        )) as [string, string[]]
        cursor = next
        if (keys.length > 0) deleted += Number(await withTimeout(current.send('UNLINK', keys), DELETE_TIMEOUT_MS))
      } while (cursor !== '0')
      return deleted
    },
    async deleteCall(plan) {
      const current = connection
      if (current === undefined) return 0
      return Number(await withTimeout(current.send('UNLINK', [redisKey(plan.method, plan.key)]), DELETE_TIMEOUT_MS))
    },
    status: () => ({ ...status }),
    stop() {
      stopped = true
      flush.stop()
      clearTimeout(retry)
      connection?.close()
      connection = undefined
    },
  }
}

/** A literal for a Redis MATCH pattern. */
function escapeGlob(text: string): string {
  return text.replace(/[*?[\]\\]/g, '\\$&')
}

/** `<full key>\n<result>`, gzipped when long; the first byte says which. */
function encode(key: string, resultJson: string, compressAtBytes: number): Uint8Array {
  const text = new TextEncoder().encode(`${key}\n${resultJson}`)
  const packed = text.length >= compressAtBytes ? gzipSync(text) : text
  const value = new Uint8Array(packed.length + 1)
  value[0] = packed === text ? RAW : GZIP
  value.set(packed, 1)
  return value
}

function decode(value: Uint8Array): { key: string; resultJson: string } | undefined {
  try {
    const body = value[0] === GZIP ? gunzipSync(value.subarray(1)) : value[0] === RAW ? value.subarray(1) : undefined
    if (body === undefined) return undefined
    const text = new TextDecoder().decode(body)
    const split = text.indexOf('\n')
    return split === -1 ? undefined : { key: text.slice(0, split), resultJson: text.slice(split + 1) }
  } catch {
    return undefined
  }
}

/**
 * Where proven state lives in the shared tier (SPEC §15): under keys of its own, so a proxy that
 * proves never takes for proven what a proxy that does not shared under the plain key.
 */
export function provenPlan(plan: CachePlan): CachePlan {
  return { ...plan, key: `proven:${plan.key}` }
}
