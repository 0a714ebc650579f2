/** What a client's bucket said about one call. */
export type Take = { ok: true } | { ok: false; retryAfterS: number }

export type TokenBucketOptions = {
  /** Tokens added per second (the sustained rate). */
  ratePerS: number
  /** Most tokens a bucket holds (the burst). */
  burst: number
  /** Clients tracked at once; beyond it the least recently seen is forgotten (it starts full again). */
  maxClients?: number
  now?: () => number
}

/** Per-client token buckets (SPEC §13): each call takes its cost, refused while the bucket has too few. */
export type TokenBuckets = { take(client: string, cost: number): Take }

export function createTokenBuckets({
  ratePerS,
  burst,
  maxClients = 10_000,
  now = () => performance.now(),
}: TokenBucketOptions): TokenBuckets {
  const buckets = new Map<string, { tokens: number; atMs: number }>()
  return {
    take(client, cost) {
      const at = now()
      let bucket = buckets.get(client)
      if (bucket === undefined) {
        bucket = { tokens: burst, atMs: at }
        if (buckets.size >= maxClients) buckets.delete(buckets.keys().next().value as string)
      } else {
        buckets.delete(client)
        bucket.tokens = Math.min(burst, bucket.tokens + (Math.max(0, at - bucket.atMs) / 1000) * ratePerS)
        bucket.atMs = Math.max(at, bucket.atMs)
      }
      // Re-inserted: the map's order is least recently seen first.
      buckets.set(client, bucket)
      // A call costing more than the burst passes on a full bucket and is charged in full (the bucket
      // goes into debt), so dear calls still run at the configured rate.
      const needed = Math.min(cost, burst)
      if (bucket.tokens >= needed) {
        bucket.tokens -= cost
        return { ok: true }
      }
      return { ok: false, retryAfterS: Math.max(1, Math.ceil((needed - bucket.tokens) / ratePerS)) }
    },
  }
}
