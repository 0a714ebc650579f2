import type { JsonRpcId, Outcome, RpcErrorObject } from './types.ts'

/** Serialize one response with the caller's id, splicing a raw result in without re-encoding it. */
export function toReplyText(id: JsonRpcId, outcome: Outcome): string {
  const idText = JSON.stringify(id)
  if (outcome.error !== undefined) return errorReplyText(idText, outcome.error)
  return `{"jsonrpc":"2.0","id":${idText},"result":${outcome.resultJson}}`
}

/** Serialize an error response whose id is already JSON text. */
function errorReplyText(idText: string, error: RpcErrorObject): string {
  return `{"jsonrpc":"2.0","id":${idText},"error":${JSON.stringify(error)}}`
}
