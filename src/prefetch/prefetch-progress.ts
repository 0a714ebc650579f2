/**
 * How far one block's prefetch has come: the accounts stored so far. A read waiting on the prefetch
 * (SPEC §14, "while it runs") is released as soon as the accounts it reads are stored, not when the
 * whole block is: with verification on, the accounts are proven in parts, and a replay reads the
 * first transactions' accounts while the later ones are still being proven.
 */
export type PrefetchProgress = {
  /** Settles once every one of `addresses` (lower case) is stored or the prefetch ended; undefined: when it ends. */
  until(addresses: readonly string[] | undefined): Promise<void>
  /** These accounts (lower case) are settled: stored, or known not to be (their proof failed). */
  settled(addresses: Iterable<string>): void
  /** The prefetch ended (stored, failed or discarded): every read still waiting looks again. */
  end(): void
}

type Waiter = { promise: Promise<void>; release: () => void }

export function createPrefetchProgress(): PrefetchProgress {
  const done = new Set<string>()
  const waiting = new Map<string, Waiter>()
  const ending = waiterOf()
  let ended = false

  const untilOne = (address: string): Promise<void> => {
    if (ended || done.has(address)) return Promise.resolve()
    let waiter = waiting.get(address)
    if (waiter === undefined) {
      waiter = waiterOf()
      waiting.set(address, waiter)
    }
    return waiter.promise
  }

  return {
    until(addresses) {
      if (addresses === undefined) return ending.promise
      return addresses.length === 1
        ? untilOne(addresses[0] as string)
        : Promise.all(addresses.map(untilOne)).then(() => {})
    },
    settled(addresses) {
      for (const address of addresses) {
        done.add(address)
        waiting.get(address)?.release()
        waiting.delete(address)
      }
    },
    end() {
      ended = true
      for (const waiter of waiting.values()) waiter.release()
      waiting.clear()
      done.clear()
      ending.release()
    },
  }
}

function waiterOf(): Waiter {
  let release = () => {}
  const promise = new Promise<void>((resolve) => {
    release = resolve
  })
  return { promise, release }
}
