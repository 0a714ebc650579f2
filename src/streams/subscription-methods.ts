import type { ManagementMethod } from '../management/method.ts'
import { InvalidParamsError, RpcError } from '../rpc/errors.ts'
import { type StreamHub, tooManySubscriptions } from './hub.ts'

/** Subscriptions need a connection to deliver to (geth answers HTTP the same way). */
class NotificationsUnsupportedError extends RpcError {
  static override readonly code = -32601
  override name = 'NotificationsUnsupportedError'
  constructor() {
    super('notifications not supported: subscribe over WebSocket (ws://), or use eth_newFilter over HTTP')
  }
}

/** `eth_subscribe` and `eth_unsubscribe` (SPEC §12), answered by the proxy from its shared feeds. */
export function createSubscriptionMethods(hub: StreamHub): Record<string, ManagementMethod> {
  return {
    eth_subscribe: {
      run(params, context) {
        const stream = context().stream
        if (stream === undefined) throw new NotificationsUnsupportedError()
        if (!Array.isArray(params) || params.length < 1 || params.length > 2) {
          throw new InvalidParamsError('expected [kind] or ["logs", {address?, topics?}]')
        }
        if (hub.countOf(stream.client) >= stream.maxSubscriptions) throw tooManySubscriptions(stream.maxSubscriptions)
        return hub.subscribe(stream.client, params[0], params[1])
      },
    },
    eth_unsubscribe: {
      run(params, context) {
        const stream = context().stream
        if (stream === undefined) throw new NotificationsUnsupportedError()
        if (!Array.isArray(params) || params.length !== 1 || typeof params[0] !== 'string') throw new InvalidParamsError('expected [subscription id]')
        return hub.unsubscribe(stream.client, params[0])
      },
    },
  }
}
