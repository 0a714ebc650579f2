/** Counters of the WebSocket transport, for `/metrics` and the monitor (the transport writes, readers only read). */
export type SocketCounters = {
  connections: number
  accepted: number
  refused: number
  slowClosed: number
  framesRefused: number
}

/** Fresh counters, for the composition root to share between the transport and its readers. */
export function createSocketCounters(): SocketCounters {
  return { connections: 0, accepted: 0, refused: 0, slowClosed: 0, framesRefused: 0 }
}
