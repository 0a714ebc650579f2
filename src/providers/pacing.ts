import { QueueFullError } from './attempt-slots.ts'
import type { Provider } from './provider.ts'

/**
 * Wait until `provider`'s budget allows `calls` more sends (SPEC §6: paced, not spent on 429s).
 * The wait is the proxy's, before any attempt timer starts. A wait longer than `maxWaitMs` is not
 * taken: the provider is busy (`QueueFullError`: tried after others, never a strike).
 */
export async function paced(provider: Provider, calls: number, maxWaitMs: number, signal?: AbortSignal): Promise<void> {
  const budget = provider.budget
  const expected = budget.waitFor(calls)
  if (expected > maxWaitMs)
    throw new QueueFullError(`${provider.label}'s request budget allows no call for ${expected} ms`)
  const waitMs = budget.reserve(calls)
  if (waitMs <= 0) return
  await new Promise<void>((resolve, reject) => {
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
