/** Wait for `promise` to settle, but at most `ms`; never rejects (the caller reads the state it waited for). */
export function settleWithin(promise: Promise<unknown>, ms: number): Promise<void> {
  let timer: ReturnType<typeof setTimeout> | undefined
  const bounded = new Promise<void>((resolve) => {
    timer = setTimeout(resolve, ms)
    promise.then(
      () => resolve(),
      () => resolve(),
    )
  })
  return bounded.finally(() => clearTimeout(timer))
}
