/**
 * Blocks a client asked about recently (by number or hash, or one of their transactions): the
 * blocks it may be about to replay (SPEC §14). Bounded in count and age; noted only on answers that
 * went upstream, never on the hit path.
 */
export type BlockInterest = {
  note(block: number): void
  /** Whether `block` was asked about within the last `ttlMs`. */
  recent(block: number): boolean
}

export function createBlockInterest({
  ttlMs = 5 * 60_000,
  maxBlocks = 1_024,
  now = Date.now,
}: {
  ttlMs?: number
  maxBlocks?: number
  now?: () => number
} = {}): BlockInterest {
  const askedAtMs = new Map<number, number>()
  return {
    note(block) {
      askedAtMs.delete(block)
      askedAtMs.set(block, now())
      if (askedAtMs.size > maxBlocks) askedAtMs.delete(askedAtMs.keys().next().value as number)
    },
    recent(block) {
      const at = askedAtMs.get(block)
      return at !== undefined && now() - at <= ttlMs
    },
  }
}
