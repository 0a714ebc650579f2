import type { Take, TokenBuckets } from './token-buckets.ts'

/** Where shared counters live: a command on the shared tier, undefined while it is down. */
export type SharedCounterStore = { send(command: string, args: string[]): Promise<unknown> | undefined }

export type SharedBucketOptions = {
  /** The tier, once there is one. */
  store: () => SharedCounterStore | undefined
  /** This process's own buckets: used while the store is down. */
  local: TokenBuckets
  ratePerS: number
  burst: number
  /** Key prefix, e.g. `edb:` (then `rate:<client>`). */
  prefix: string
}

/**
 * One token bucket per client in Redis (SPEC §13), taken in one atomic script with the server's
 * clock, so two proxies can never both spend the last token. Refill, take and expiry in one step.
 */
const TAKE = `
-- Redis before 5 needs this to write after reading the clock; later ones ignore it.
if redis.replicate_commands then redis.replicate_commands() end
local now = redis.call('TIME')
local nowMs = tonumber(now[1]) * 1000 + math.floor(tonumber(now[2]) / 1000)
local rate = tonumber(ARGV[1])
local burst = tonumber(ARGV[2])
local cost = tonumber(ARGV[3])
local needed = math.min(cost, burst)
local bucket = redis.call('HMGET', KEYS[1], 't', 'a')
local tokens = tonumber(bucket[1]) or burst
local at = tonumber(bucket[2]) or nowMs
if nowMs > at then tokens = math.min(burst, tokens + (nowMs - at) / 1000 * rate) end
local ok = 0
if tokens >= needed then
  tokens = tokens - cost
  ok = 1
end
redis.call('HSET', KEYS[1], 't', tostring(tokens), 'a', tostring(math.max(nowMs, at)))
redis.call('PEXPIRE', KEYS[1], math.ceil(burst / rate * 1000) + 1000)
if ok == 1 then return 0 end
return math.max(1, math.ceil((needed - tokens) / rate))
`

/** Rate limits shared through Redis, falling back to this process's buckets while it is down. */
export function createSharedBuckets(options: SharedBucketOptions): {
  take(client: string, cost: number): Take | Promise<Take>
} {
  return {
    take(client, cost) {
      const needed = Math.min(cost, options.burst)
      const pending = options
        .store()
        ?.send('EVAL', [
          TAKE,
          '1',
          `${options.prefix}rate:${client}`,
          String(options.ratePerS),
          String(options.burst),
          String(needed),
        ])
      if (pending === undefined) return options.local.take(client, cost)
      return pending.then(
        (wait): Take => (Number(wait) === 0 ? { ok: true } : { ok: false, retryAfterS: Number(wait) }),
        () => options.local.take(client, cost),
      )
    },
  }
}
