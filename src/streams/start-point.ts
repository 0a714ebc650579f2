import type { ChainChange, Head } from './chain-follower.ts'

/**
 * The head that was current when a subscription was made. geth and anvil deliver only what arrives
 * after a subscription, so that block and those below it are not the subscription's news.
 */
export type StartPoint = { number: number; hash: string }

/** A subscription's start, once its first news is out: undefined (everything after is news). */
export type Starting = { since?: StartPoint }

/**
 * The part of a chain change that is news to `subscriber`, and whether it has seen anything yet.
 * Before its first news, blocks at or below its start are skipped and removed blocks are none of its
 * business (it was sent none); a change that removes its start block is a reorg after it
 * subscribed, so every block added is news. From its first news on, whole changes are.
 */
export function newsFor(subscriber: Starting, change: ChainChange): ChainChange {
  const since = subscriber.since
  if (since === undefined) return change
  const startReplaced = change.removed.some((head) => head.hash === since.hash)
  const added = startReplaced ? change.added : change.added.filter((head: Head) => head.number > since.number)
  if (added.length > 0) subscriber.since = undefined
  return { removed: [], added }
}
