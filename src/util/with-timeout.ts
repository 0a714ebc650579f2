/** `work` did not settle within its time. */
export class TimeoutError extends Error {
  override name = 'TimeoutError'
}

/** `work`, or a rejection with a `TimeoutError` once `ms` passed; the timer is cleared either way. */
export async function withTimeout<T>(work: Promise<T>, ms: number): Promise<T> {
  let timer: ReturnType<typeof setTimeout> | undefined
  const expired = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new TimeoutError(`no answer within ${ms} ms`)), ms)
  })
  try {
    return await Promise.race([work, expired])
  } finally {
    clearTimeout(timer)
  }
}

/** Wait for `work` to settle, but at most `ms`; never rejects (the caller reads the state it waited for). */
export function settleWithin(work: Promise<unknown>, ms: number): Promise<void> {
  return withTimeout(work, ms).then(ignore, ignore)
}

const ignore = () => {}
