import { QueueFullError } from './attempt-slots.ts'
import type { Provider } from './provider.ts'

/**
 * Wait until `provider`'s budget allows `calls` more sends (SPEC §6: paced, not spent on 429s).
 * The wait is the proxy's, before any attempt timer starts. A wait longer than `maxWaitMs` is not
 * taken: the provider is busy (`QueueFullError`, thrown: tried after others, never a strike).
 */
export function paced(
  provider: Provider,
  calls: number,
  maxWaitMs: number,
  signal?: AbortSignal,
): undefined | Promise<void> {
  const budget = provider.budget
  const expected = budget.waitFor(calls)
  if (expected > maxWaitMs)
    throw new QueueFullError(`${provider.label}'s request budget allows no call for ${expected} ms`)
  // Paused (a Retry-After, or a budget being learned from a 429): the moment is chosen once the pause is over.
  const pauseMs = budget.pausedFor()
  if (pauseMs > 0) return sleep(pauseMs, signal).then(() => paced(provider, calls, maxWaitMs - pauseMs, signal))
  const waitMs = budget.reserve(calls)
  // The usual case, no budget or room in it: nothing to wait for, no promise.
  if (waitMs <= 0) return undefined
  return sleep(waitMs, signal)
}

function sleep(waitMs: number, signal?: AbortSignal): Promise<void> {
  return new Promise<void>((resolve, reject) => {
    const timer = setTimeout(resolve, waitMs)
    signal?.addEventListener(
      'abort',
      () => {
        clearTimeout(timer)
        reject(signal.reason)
      },
      { once: true },
    )
  })
}
