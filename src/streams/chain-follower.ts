import { parseQuantity } from '../rpc/quantity.ts'

/** One block header of the canonical chain as the follower keeps it. */
export type Head = {
  number: number
  hash: string
  parentHash: string
  /** The header as a node sent it (the `newHeads` payload is made from it). */
  header: Record<string, unknown>
}

/** What changed in the canonical chain: blocks no longer in it (oldest first), then blocks added (in order). */
export type ChainChange = { removed: Head[]; added: Head[] }

export type FollowerOptions = {
  /** A block by hash over HTTP: the header, null when no provider has it, undefined when none could be asked. */
  blockByHash(hash: string): Promise<unknown>
  /** A block by number over HTTP (same contract). */
  blockByNumber(block: number): Promise<unknown>
  /** How many recent blocks are kept to tell a duplicate, and how deep a reorg or gap can be repaired. */
  windowSize: number
  /** Pauses before asking again for blocks no provider had yet; then delivery restarts at the head. */
  retryDelaysMs: readonly number[]
  onChange(change: ChainChange): void
  /** A header already delivered (another feed, a repeat). */
  onDuplicate?(): void
  /** Blocks fetched over HTTP to fill a gap before a newer head went out. */
  onGapFilled?(blocks: number): void
  /** A reorg replaced `depth` blocks. */
  onReorg?(depth: number): void
  /** The chain could not be joined up (a gap or reorg deeper than the window): delivery restarts at this head. */
  onRestart?(reason: string): void
}

/** The canonical chain as seen through any number of head feeds, delivered exactly once and in order. */
export type ChainFollower = {
  /** A header from any feed; processed in arrival order, one at a time. */
  offer(header: unknown): void
  /**
   * The head a new subscription starts from: with no tip yet it becomes the tip without being
   * delivered (it is no subscriber's news, and later heads are joined to it, gaps filled); with a
   * tip it is taken like an offered head, unless already known.
   */
  begin(header: unknown): void
  /** The newest canonical block delivered. */
  readonly tip: Head | undefined
  /** Resolves once every header offered so far is processed (for tests and shutdown). */
  settled(): Promise<void>
  /** Forget everything (the last subscription left). */
  reset(): void
}

/** A header as a `Head`, or undefined when it lacks a number, hash or parent hash. */
export function toHead(value: unknown): Head | undefined {
  if (value === null || typeof value !== 'object' || Array.isArray(value)) return undefined
  const header = value as Record<string, unknown>
  const number = typeof header.number === 'string' ? parseQuantity(header.number) : undefined
  const { hash, parentHash } = header
  if (number === undefined || typeof hash !== 'string' || typeof parentHash !== 'string') return undefined
  return { number, hash: hash.toLowerCase(), parentHash: parentHash.toLowerCase(), header }
}

/**
 * SPEC §12: every canonical block once, in order, whatever the feeds do. A header extending the tip
 * is delivered; one already seen is a duplicate; one further ahead first has the missing blocks
 * fetched over HTTP (by number, checked to link up, else walked back by parent hash); one whose
 * parent is not the block below it is a reorg: its ancestors are walked back by hash to a block
 * in the window, the blocks above that are removed, the new branch added. A header below the tip on
 * another branch is stale (a lagging feed) and ignored until a head at or above the tip follows.
 */
export function createChainFollower(options: FollowerOptions): ChainFollower {
  /** The canonical window, oldest first, and the same blocks by hash. */
  let window: Head[] = []
  let byHash = new Map<string, Head>()
  let queue: Promise<void> = Promise.resolve()
  /** Heads offered and not yet processed. */
  let waiting = 0
  let generation = 0

  const tip = () => window[window.length - 1]

  const append = (heads: Head[]) => {
    for (const head of heads) {
      window.push(head)
      byHash.set(head.hash, head)
    }
    while (window.length > options.windowSize) byHash.delete((window.shift() as Head).hash)
  }

  /** Remove every block above `ancestor` (which is in the window), returning them oldest first. */
  const cutAbove = (ancestor: Head): Head[] => {
    const at = window.indexOf(ancestor)
    const removed = window.slice(at + 1)
    window = window.slice(0, at + 1)
    for (const head of removed) byHash.delete(head.hash)
    return removed
  }

  const fetched = async (value: Promise<unknown>): Promise<Head | undefined> =>
    toHead(await value.catch(() => undefined))

  /** The missing blocks between the tip and `head` by number, in parallel, if they link up; else undefined. */
  const fillByNumber = async (from: Head, head: Head): Promise<Head[] | undefined> => {
    const count = head.number - from.number - 1
    const blocks = await Promise.all(
      Array.from({ length: count }, (_, index) => fetched(options.blockByNumber(from.number + 1 + index))),
    )
    let parent = from
    for (const block of blocks) {
      if (block === undefined || block.parentHash !== parent.hash || block.number !== parent.number + 1)
        return undefined
      parent = block
    }
    return parent.hash === head.parentHash ? (blocks as Head[]) : undefined
  }

  /**
   * Walk back from `head` by parent hash to a block in the window: the branch above it, oldest
   * first; 'deep' when it does not join within the window, 'unavailable' when no provider had a block.
   */
  const walkBack = async (head: Head): Promise<{ ancestor: Head; branch: Head[] } | 'deep' | 'unavailable'> => {
    const branch = [head]
    let cursor = head
    while (!byHash.has(cursor.parentHash)) {
      if (branch.length > options.windowSize || cursor.number <= (window[0]?.number ?? 0)) return 'deep'
      const parent = await fetched(options.blockByHash(cursor.parentHash))
      if (parent === undefined || parent.hash !== cursor.parentHash || parent.number !== cursor.number - 1)
        return 'unavailable'
      branch.unshift(parent)
      cursor = parent
    }
    return { ancestor: byHash.get(cursor.parentHash) as Head, branch }
  }

  const restart = (head: Head, reason: string) => {
    options.onRestart?.(reason)
    window = []
    byHash = new Map()
    append([head])
    options.onChange({ removed: [], added: [head] })
  }

  /** Process one head; 'retry' when the blocks needed to join it could not be fetched yet. */
  const process = async (head: Head, mine: number): Promise<'retry' | undefined> => {
    if (byHash.has(head.hash)) {
      options.onDuplicate?.()
      return
    }
    const last = tip()
    if (last === undefined) {
      append([head])
      options.onChange({ removed: [], added: [head] })
      return
    }
    if (head.number === last.number + 1 && head.parentHash === last.hash) {
      append([head])
      options.onChange({ removed: [], added: [head] })
      return
    }
    // A lagging feed's block on a branch already left behind: a newer head will settle it.
    if (head.number < last.number) return
    if (head.number > last.number + 1 && head.number - last.number <= options.windowSize) {
      const filled = await fillByNumber(last, head)
      if (mine !== generation) return
      if (filled !== undefined) {
        append([...filled, head])
        options.onGapFilled?.(filled.length)
        options.onChange({ removed: [], added: [...filled, head] })
        return
      }
    }
    const joined = head.number - last.number <= options.windowSize ? await walkBack(head) : 'deep'
    if (mine !== generation) return
    if (joined === 'unavailable') return 'retry'
    if (joined === 'deep') {
      restart(head, `block ${head.number} does not join the last ${window.length} blocks delivered`)
      return
    }
    const removed = cutAbove(joined.ancestor)
    append(joined.branch)
    if (removed.length > 0) options.onReorg?.(removed.length)
    else options.onGapFilled?.(joined.branch.length - 1)
    options.onChange({ removed, added: joined.branch })
  }

  /** Blocks missing upstream may appear shortly (a provider catching up): later heads wait, keeping the order. */
  const processWithRetries = async (head: Head, mine: number) => {
    for (let attempt = 0; mine === generation; attempt++) {
      if ((await process(head, mine)) !== 'retry') return
      if (attempt + 1 >= options.retryDelaysMs.length + 1) break
      await new Promise((resolve) => setTimeout(resolve, options.retryDelaysMs[attempt]))
    }
    if (mine === generation)
      restart(head, `the blocks joining block ${head.number} to the chain delivered could not be fetched`)
  }

  const enqueue = (head: Head, seed: boolean) => {
    const mine = generation
    waiting += 1
    queue = queue
      .then(() => (seed && tip() === undefined ? seedWith(head, mine) : processWithRetries(head, mine)))
      .catch(() => {})
      .finally(() => {
        waiting -= 1
      })
  }

  const seedWith = (head: Head, mine: number) => {
    if (mine === generation) append([head])
  }

  return {
    offer(header) {
      const head = toHead(header)
      if (head === undefined) return
      // Cheap checks first: a head already delivered never waits in line; a long line (heads far
      // faster than they can be joined) takes no more, since any later head fills what it skips.
      if (byHash.has(head.hash)) {
        options.onDuplicate?.()
        return
      }
      if (waiting >= options.windowSize) return
      enqueue(head, false)
    },
    begin(header) {
      const head = toHead(header)
      if (head === undefined || byHash.has(head.hash)) return
      // A seed is never dropped for a long line: without it the blocks between the start and the
      // first head a source sends would not be filled.
      if (tip() !== undefined && waiting >= options.windowSize) return
      enqueue(head, true)
    },
    get tip() {
      return tip()
    },
    settled: () => queue,
    reset() {
      generation += 1
      window = []
      byHash = new Map()
    },
  }
}
