/** A child's output, read continuously so its pipe never fills; keeps the last `maxChars`. */
export type Output = {
  /** Everything kept so far. */
  text(): string
  /** Resolves with the first match of `pattern`; rejects on timeout or when the stream ends first. */
  waitFor(pattern: RegExp, timeoutMs: number): Promise<RegExpMatchArray>
}

type Waiter = { pattern: RegExp; resolve(match: RegExpMatchArray): void; reject(error: Error): void }

/** Start reading `stream` in the background. */
export function watchOutput(stream: ReadableStream<Uint8Array>, maxChars = 64 * 1024): Output {
  let buffer = ''
  let ended = false
  const waiters = new Set<Waiter>()
  const settle = () => {
    for (const waiter of waiters) {
      const match = buffer.match(waiter.pattern)
      if (match) waiter.resolve(match)
      else if (ended) waiter.reject(new Error(`output ended without a line matching ${waiter.pattern}:\n${buffer}`))
      else continue
      waiters.delete(waiter)
    }
  }
  void (async () => {
    const decoder = new TextDecoder()
    for await (const chunk of stream) {
      buffer = (buffer + decoder.decode(chunk, { stream: true })).slice(-maxChars)
      settle()
    }
  })()
    .catch(() => {})
    .finally(() => {
      ended = true
      settle()
    })

  return {
    text: () => buffer,
    waitFor: (pattern, timeoutMs) =>
      new Promise((resolve, reject) => {
        const timer = setTimeout(() => {
          waiters.delete(waiter)
          reject(new Error(`no line matching ${pattern} within ${timeoutMs} ms; output so far:\n${buffer}`))
        }, timeoutMs)
        const waiter: Waiter = {
          pattern,
          resolve: (match) => {
            clearTimeout(timer)
            resolve(match)
          },
          reject: (error) => {
            clearTimeout(timer)
            reject(error)
          },
        }
        waiters.add(waiter)
        settle()
      }),
  }
}
