const READ = /^(eth_(get|call$|estimateGas$|createAccessList$|blockNumber$|chainId$|gasPrice$|feeHistory$|maxPriorityFeePerGas$|blobBaseFee$|syncing$|protocolVersion$)|net_|web3_clientVersion$|debug_trace|trace_(?!filter$))/

/** Reads with no side effect: safe to send to several providers at once (hedging). */
export function isIdempotentRead(method: string): boolean {
  return READ.test(method)
}

/** Traces take far longer than other calls: longer timeouts, and never hedged (each copy is expensive). */
export function isTraceMethod(method: string): boolean {
  return method.startsWith('debug_trace') || method.startsWith('trace_')
}
