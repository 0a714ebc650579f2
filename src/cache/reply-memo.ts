/** A finished reply remembered by its request body, valid while its cache entry is unchanged. */
export type MemoEntry = { key: string; resultJson: string; reply: string }

export type ReplyMemoOptions = { maxEntries: number; maxBytes: number }

/**
 * The hit fast path: a byte-identical single-call body (same method, params and id) gets a
 * byte-identical reply, so a repeated body skips parsing, keying and serializing. Entries point at
 * the cache entry they came from and are only used while it still holds the same result.
 * Bounded by count and by bytes (bodies plus replies); the oldest entries go first.
 */
export function createReplyMemo({ maxEntries, maxBytes }: ReplyMemoOptions) {
  const entries = new Map<string, MemoEntry>()
  let bytes = 0
  const sizeOf = (body: string, entry: MemoEntry) => (body.length + entry.reply.length) * 2
  const forget = (body: string) => {
    const entry = entries.get(body)
    if (entry === undefined) return
    entries.delete(body)
    bytes -= sizeOf(body, entry)
  }
  return {
    get(body: string): MemoEntry | undefined {
      return entries.get(body)
    },
    remember(body: string, entry: MemoEntry): void {
      const size = sizeOf(body, entry)
      if (size > maxBytes / 64) return
      forget(body)
      entries.set(body, entry)
      bytes += size
      while (entries.size > maxEntries || bytes > maxBytes) forget(entries.keys().next().value as string)
    },
    forget,
    get size() {
      return entries.size
    },
  }
}

export type ReplyMemo = ReturnType<typeof createReplyMemo>
