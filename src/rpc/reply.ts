import type { Outcome, RpcErrorObject } from './types.ts'

/** Serialize one response with the caller's id (as JSON text), splicing a raw result in without re-encoding it. */
export function toReplyText(idJson: string, outcome: Outcome): string {
  if (outcome.error !== undefined) return errorReplyText(idJson, outcome.error)
  return `{"jsonrpc":"2.0","id":${idJson},"result":${outcome.resultJson}}`
}

/** Serialize an error response whose id is already JSON text. */
function errorReplyText(idJson: string, error: RpcErrorObject): string {
  return `{"jsonrpc":"2.0","id":${idJson},"error":${JSON.stringify(error)}}`
}
