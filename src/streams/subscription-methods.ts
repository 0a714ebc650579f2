import type { ManagementMethod } from '../management/method.ts'
import type { SocketCounters } from '../metrics/socket-counters.ts'
import { InvalidParamsError, NotificationsUnsupportedError } from '../rpc/errors.ts'
import { type StreamHub, tooManySubscriptions } from './hub.ts'

/** `edb_streams`: what the streams and the WebSocket transport are doing, for the monitor. */
export function createStreamsMethod(hub: StreamHub, sockets: SocketCounters): Record<string, ManagementMethod> {
  return {
    edb_streams: {
      run() {
        const stats = hub.stats()
        const { counters } = stats
        return {
          connections: {
            open: sockets.connections,
            accepted: sockets.accepted,
            refused: sockets.refused,
            slow_closed: sockets.slowClosed,
            frames_refused: sockets.framesRefused,
          },
          subscriptions: stats.subscriptions,
          feeds: stats.feeds,
          sources: stats.sources,
          counters: {
            events_delivered: counters.eventsDelivered,
            duplicates_dropped: counters.duplicatesDropped,
            gaps_filled: counters.gapsFilled,
            blocks_filled: counters.blocksFilled,
            reorgs: counters.reorgs,
            restarts: counters.restarts,
            log_fetch_failures: counters.logFetchFailures,
          },
        }
      },
    },
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
        if (!Array.isArray(params) || params.length !== 1 || typeof params[0] !== 'string')
          throw new InvalidParamsError('expected [subscription id]')
        return hub.unsubscribe(stream.client, params[0])
      },
    },
  }
}
