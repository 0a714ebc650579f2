/** A repeating timer; `stop` ends it (calling it twice is harmless). */
export type Every = { stop(): void }

export type EveryOptions = {
  /** Whether the timer holds the process open: only a foreground loop (the dashboard) wants that. @default false */
  keepAlive?: boolean
}

/** Run `fn` every `ms`. A background timer never keeps the process alive (`unref`, where the runtime has it). */
export function every(ms: number, fn: () => void, { keepAlive = false }: EveryOptions = {}): Every {
  const timer = setInterval(fn, ms)
  if (!keepAlive) (timer as { unref?: () => void }).unref?.()
  return { stop: () => clearInterval(timer) }
}
