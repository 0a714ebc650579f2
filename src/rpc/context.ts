/**
 * Who calls, and where their events go: what a transport tells the pipeline about the caller of
 * one call. The core reads it; only transports build it.
 */

/** Where a connection's subscription events are delivered (the stream hub writes, the transport sends). */
export type StreamClient = {
  deliver(subscription: string, resultJson: string): void
  /** A subscription was made for this client (before its id is answered). */
  subscribed?(subscription: string): void
}

/** What the transport knows about the caller of one call. */
export type CallContext = {
  /** The connection subscriptions are delivered to (WebSocket only), and how many it may hold. */
  stream?: { client: StreamClient; maxSubscriptions: number }
  /** Why state-changing management methods are refused to this caller, or undefined when allowed. */
  adminDenied?: string
  /** Why methods that change a node's state or use its keys are refused (a browser origin not allowed), or undefined. */
  originDenied?: string
  /** Who calls, for rate limits and per-client metrics: a token's name, else the IP address. */
  client?: string
  /** The call came from this machine (management methods from loopback are never rate limited). */
  loopback?: boolean
}

/** Who is calling, asked only when a call needs it (a remembered reply never does). */
export type ContextSource = () => CallContext
