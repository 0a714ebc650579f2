/** A finished reply remembered by its request body, valid while its cache entry is unchanged. */
export type MemoEntry = {
  method: string
  key: string
  resultJson: string
  reply: string
  /** The state answer's proof when it was remembered (SPEC §15, `x-verified`). */
  verified?: 'proof' | 'none'
}

export type ReplyMemoOptions = { maxEntries: number; maxBytes: number }

/**
 * The hit fast path: a byte-identical single-call body (same method, params and id) gets a
 * byte-identical reply, so a repeated body skips parsing, keying and serializing. Entries point at
 * the cache entry they came from and are only used while it still holds the same result.
 * Bounded by count and by bytes (bodies plus replies); the oldest entries go first.
 */
export function createReplyMemo({ maxEntries, maxBytes }: ReplyMemoOptions) {
  const entries = new Map<string, MemoEntry>()
  // Insertion order as a ring of bodies: evicting never iterates the Map (whose front fills with
  // holes under constant deletion, making `keys().next()` slow).
  const ring: (string | undefined)[] = new Array(maxEntries)
  let next = 0
  let oldest = 0
  let bytes = 0
  const sizeOf = (body: string, entry: MemoEntry) => (body.length + entry.reply.length) * 2
  const forget = (body: string) => {
    const entry = entries.get(body)
    if (entry === undefined) return
    entries.delete(body)
    bytes -= sizeOf(body, entry)
  }
  const evictOldest = () => {
    const body = ring[oldest]
    ring[oldest] = undefined
    oldest = (oldest + 1) % maxEntries
    if (body !== undefined) forget(body)
  }
  return {
    get(body: string): MemoEntry | undefined {
      return entries.get(body)
    },
    remember(body: string, entry: MemoEntry): void {
      const size = sizeOf(body, entry)
      if (size > maxBytes / 64 || entries.has(body)) return
      if (ring[next] !== undefined) evictOldest()
      ring[next] = body
      next = (next + 1) % maxEntries
      entries.set(body, entry)
      bytes += size
      for (let slot = 0; bytes > maxBytes && slot < maxEntries; slot++) evictOldest()
    },
    forget,
    get size() {
      return entries.size
    },
  }
}
