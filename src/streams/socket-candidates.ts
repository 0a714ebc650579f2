import { redactUrl } from '../util/redact.ts'
import type { SocketCandidate } from './feed-sources.ts'

/**
 * Where subscription feeds may connect (SPEC §12): the `--ws-urls` given, else every `--rpc-urls`
 * entry in its WebSocket form (`http` → `ws`, `https` → `wss`), since many nodes (anvil, geth,
 * reth) serve both on one port; one that refuses the upgrade is left for the next, and with none
 * the feeds poll over HTTP.
 */
export function socketCandidates(wsUrls: readonly string[], rpcUrls: readonly string[]): SocketCandidate[] {
  const urls = wsUrls.length > 0 ? wsUrls : rpcUrls.map((url) => url.replace(/^http/i, 'ws'))
  return urls.map((url) => ({ url, label: redactUrl(url) }))
}
