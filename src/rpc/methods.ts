/**
 * The method table: everything the proxy knows about a method by its name, in one place. The
 * pipeline, the cache policy and its answer checks, the rate limit, the short-lived answers, the
 * failover loop and the monitor all read it; nothing else keeps a list of method names.
 */

/**
 * How a cacheable method pins its answer (SPEC §5.1): by a block parameter at `index` (number, tag,
 * hash or EIP-1898 object), by a block hash, by a transaction hash (final once its block is), by a
 * log filter, or not at all (`static`: the chain's own constants).
 */
export type Pin =
  | { kind: 'static' }
  | { kind: 'block'; index: number }
  | { kind: 'block-hash'; index: number }
  | { kind: 'tx'; index: number; blockInResult: boolean }
  | { kind: 'logs' }

/** What kind of call a method makes. */
export type MethodKind =
  /** Answered by the proxy itself (`edb_*`), never forwarded. */
  | 'management'
  /** Reads the chain: safe to send to several providers at once (hedged). */
  | 'read'
  /** A trace: a read that is expensive, with a longer timeout and never hedged. */
  | 'trace'
  /** Changes a development chain's state or history (`evm_revert`, `anvil_reset`, ...). */
  | 'dev-rewrite'
  /** Sends a transaction or uses a node's keys: one provider at a time, never duplicated blindly. */
  | 'write'
  /** Anything else (sends, signing, filters, unknown methods): one provider at a time. */
  | 'other'

/** One method's row in the table. */
export type MethodInfo = {
  kind: MethodKind
  /** Where a cacheable answer is pinned; undefined: never cached. */
  pin?: Pin
  /** Management methods that change state: refused to browsers and, off loopback, without the admin token (SPEC §8). */
  privileged?: boolean
  /** Changes a node's state or uses its keys: refused to a browser whose origin is not allowed (SPEC §8). */
  guarded?: boolean
  /** What one call costs against its client's budget (SPEC §13); undefined: 1. */
  cost?: number
  /** An answer about "now" that may be shared for a configured moment (SPEC §13); `at-latest`: only when it asks up to `latest`. */
  realtime?: 'always' | 'at-latest'
  /** What an answer must show to answer its question (SPEC §8), checked before it is stored. */
  check?: AnswerCheckKind
  /** The field of `eth_getAccountInfo`'s answer this method's answer is (Foundry asks either form). */
  accountField?: 'balance' | 'nonce' | 'code'
  /** State of one account at a block: its address's index (compared case-insensitively in cache keys, SPEC §5.2). */
  account?: number
  /** A storage slot's index, or a list of slots' (compared as numbers in cache keys, SPEC §5.2). */
  slot?: { index: number; list?: true }
  /** Storage of several accounts: its param at `index` maps addresses to lists of slots (`eth_getStorageValues`). */
  slotMap?: number
  /** A state read a block replay makes, one round trip each: a miss may wait for the block's prefetch (SPEC §14). */
  replayRead?: true
  /** Names a block a client may be about to replay (SPEC §14): by its `param` (a number), or the `result`'s block. */
  blockInterest?: 'param' | 'result'
  /** What a provider must still hold at the call's block to answer it (SPEC §6: history depth per provider). */
  history?: HistoryKind
}

/** The kinds of history a node may prune separately (`eth_capabilities`' resources, traces with state). */
export type HistoryKind = 'state' | 'proofs' | 'logs' | 'receipts' | 'blocks' | 'traces'

/**
 * Answer checks (SPEC §8): a block carries its number or hash; a transaction in a block, that block
 * and index; block receipts, their block; a transaction or receipt, its hash; a raw transaction
 * hashes to it; logs lie in the block or range asked.
 */
export type AnswerCheckKind = 'block' | 'tx-in-block' | 'block-receipts' | 'tx' | 'receipt' | 'raw-tx' | 'logs'

const block = (index: number): MethodInfo => ({ kind: 'read', pin: { kind: 'block', index } })
const byHash = (index: number): MethodInfo => ({ kind: 'read', pin: { kind: 'block-hash', index } })
const tx = (blockInResult: boolean): MethodInfo => ({ kind: 'read', pin: { kind: 'tx', index: 0, blockInResult } })
const traced = (info: MethodInfo): MethodInfo => ({ ...info, kind: 'trace', cost: TRACE_COST, history: 'traces' })
const needs = (info: MethodInfo, history: HistoryKind): MethodInfo => ({ ...info, history })
const checked = (info: MethodInfo, check: AnswerCheckKind): MethodInfo => ({ ...info, check })
const account = (accountField: MethodInfo['accountField']): MethodInfo => ({ ...state(1), accountField })
/** State of one account at the block at `index`: keyed by address, read by a replay. */
const state = (index: number, extra: Partial<MethodInfo> = {}): MethodInfo => ({
  ...block(index),
  account: 0,
  replayRead: true,
  history: 'state',
  ...extra,
})
const interest = (info: MethodInfo, blockInterest: MethodInfo['blockInterest']): MethodInfo => ({
  ...info,
  blockInterest,
})
const now = (realtime: MethodInfo['realtime'] = 'always'): MethodInfo => ({ kind: 'read', realtime })
/** A trace costs 20 plain calls, a log query 10 (SPEC §13 defaults). */
const TRACE_COST = 20
const LOGS_COST = 10
const management = (privileged = false): MethodInfo =>
  privileged ? { kind: 'management', privileged } : { kind: 'management' }

/** Every method with a row of its own; the namespaces below cover the rest. */
const TABLE: ReadonlyMap<string, MethodInfo> = new Map<string, MethodInfo>([
  ['eth_chainId', { kind: 'read', pin: { kind: 'static' } }],
  ['net_version', { kind: 'read', pin: { kind: 'static' } }],
  ['eth_getBalance', account('balance')],
  ['eth_getCode', account('code')],
  ['eth_getTransactionCount', account('nonce')],
  ['eth_getStorageAt', state(2, { slot: { index: 1 } })],
  ['eth_getProof', { ...block(2), account: 0, slot: { index: 1, list: true }, history: 'proofs' }],
  ['eth_call', needs(block(1), 'state')],
  // Foundry 1.x asks it for every account of a fork (balance, nonce and code in one call).
  ['eth_getAccountInfo', state(1)],
  // Up to 1,024 slots at once (SPEC §5.1): answered from, and stored as, eth_getStorageAt entries.
  ['eth_getStorageValues', { ...block(1), slotMap: 0, replayRead: true, history: 'state' }],
  // EIP-7928 block access lists: what a block touches, fixed once the block is.
  ['eth_getBlockAccessList', block(0)],
  ['eth_getBlockAccessListByBlockNumber', block(0)],
  ['eth_getBlockAccessListByBlockHash', byHash(0)],
  ['eth_getTransactionByHash', interest(checked(tx(true), 'tx'), 'result')],
  ['eth_getTransactionReceipt', interest(checked(tx(true), 'receipt'), 'result')],
  ['eth_getRawTransactionByHash', checked(tx(false), 'raw-tx')],
  ['eth_getTransactionByBlockHashAndIndex', interest(checked(byHash(0), 'tx-in-block'), 'result')],
  ['eth_getTransactionByBlockNumberAndIndex', interest(checked(block(0), 'tx-in-block'), 'param')],
  ['eth_getBlockByNumber', needs(interest(checked(block(0), 'block'), 'param'), 'blocks')],
  ['eth_getBlockByHash', interest(checked(byHash(0), 'block'), 'result')],
  ['eth_getBlockReceipts', needs(interest(checked(block(0), 'block-receipts'), 'param'), 'receipts')],
  ['eth_getBlockTransactionCountByNumber', block(0)],
  ['eth_getBlockTransactionCountByHash', byHash(0)],
  ['eth_getUncleCountByBlockNumber', block(0)],
  ['eth_getUncleCountByBlockHash', byHash(0)],
  ['eth_getUncleByBlockNumberAndIndex', block(0)],
  ['eth_getUncleByBlockHashAndIndex', byHash(0)],
  ['eth_getLogs', { kind: 'read', pin: { kind: 'logs' }, check: 'logs', cost: LOGS_COST, history: 'logs' }],
  ['eth_blockNumber', now()],
  ['eth_gasPrice', now()],
  ['eth_maxPriorityFeePerGas', now()],
  ['eth_feeHistory', now('at-latest')],
  ['debug_traceTransaction', traced(tx(false))],
  ['debug_traceBlockByNumber', traced(block(0))],
  ['debug_traceBlockByHash', traced(byHash(0))],
  ['debug_traceCall', traced(block(1))],
  ['trace_transaction', traced(tx(false))],
  ['trace_block', traced(block(0))],
  ['trace_replayTransaction', traced(tx(false))],
  ['trace_replayBlockTransactions', traced(block(0))],
  ['trace_call', traced(block(2))],
  ['trace_filter', { kind: 'trace', cost: TRACE_COST }],
  ['edb_ping', management()],
  ['edb_info', management()],
  ['edb_register', management(true)],
  ['edb_heartbeat', management()],
  ['edb_active_instances', management()],
  ['edb_cache_stats', management()],
  ['edb_cache_metrics', management()],
  ['edb_providers', management()],
  ['edb_streams', management()],
  ['edb_provider_metrics', management()],
  ['edb_metrics_history', management()],
  ['edb_request_metrics', management()],
  ['edb_deleteCache', management(true)],
  ['edb_shutdown', management(true)],
  ['debug_setHead', { kind: 'dev-rewrite', guarded: true, cost: TRACE_COST }],
  ...[
    'eth_sendRawTransaction',
    'eth_sendTransaction',
    'eth_sign',
    'eth_signTransaction',
    'eth_signTypedData',
    'eth_signTypedData_v3',
    'eth_signTypedData_v4',
  ].map((name): [string, MethodInfo] => [name, { kind: 'write', guarded: true }]),
  // Reads in the development namespaces: they change nothing, but are a dev node's controls all the same.
  ...[
    'evm_snapshot',
    'anvil_nodeInfo',
    'anvil_metadata',
    'hardhat_metadata',
    'anvil_getAutomine',
    'hardhat_getAutomine',
    'anvil_getIntervalMining',
    'anvil_dumpState',
    'hardhat_dumpState',
    'anvil_getBlobByHash',
    'anvil_getBlobsByTransactionHash',
  ].map((name): [string, MethodInfo] => [name, { kind: 'other', guarded: true }]),
])

const DEV_NAMESPACE = /^(evm|anvil|hardhat|ganache)_/
const KEYS_NAMESPACE = /^personal_/
const READ =
  /^(eth_(get|estimateGas$|createAccessList$|blockNumber$|gasPrice$|feeHistory$|maxPriorityFeePerGas$|blobBaseFee$|syncing$|protocolVersion$)|net_|web3_clientVersion$|debug_trace|trace_)/
const TRACE = /^(debug_trace|trace_)/

const MANAGEMENT_UNKNOWN: MethodInfo = { kind: 'management' }
const DEV_REWRITE: MethodInfo = { kind: 'dev-rewrite', guarded: true }
const TRACE_INFO: MethodInfo = { kind: 'trace', cost: TRACE_COST }
const WRITE_INFO: MethodInfo = { kind: 'write', guarded: true }
const READ_INFO: MethodInfo = { kind: 'read' }
const OTHER: MethodInfo = { kind: 'other' }
const EXPENSIVE_NAMESPACE = /^(debug|trace)_/
const EXPENSIVE_READ: MethodInfo = { kind: 'read', cost: TRACE_COST }
const EXPENSIVE_OTHER: MethodInfo = { kind: 'other', cost: TRACE_COST }

/** Rows worked out from a namespace, remembered per name (bounded: method names are client input). */
const derived = new Map<string, MethodInfo>()
const MAX_DERIVED = 1_024

/**
 * The row of `method`: its own, or the one its namespace gives (`edb_` is ours and never
 * forwarded; `evm_`/`anvil_`/`hardhat_`/`ganache_` rewrite a dev chain's history, but for the
 * known reads; `eth_get*` and the like are reads).
 */
export function methodInfo(method: string): MethodInfo {
  const row = TABLE.get(method) ?? derived.get(method)
  if (row !== undefined) return row
  const info = namespaceInfo(method)
  if (derived.size < MAX_DERIVED) derived.set(method, info)
  return info
}

function namespaceInfo(method: string): MethodInfo {
  if (method.startsWith('edb_')) return MANAGEMENT_UNKNOWN
  if (DEV_NAMESPACE.test(method)) return DEV_REWRITE
  if (KEYS_NAMESPACE.test(method)) return WRITE_INFO
  if (TRACE.test(method)) return TRACE_INFO
  // The whole debug_ and trace_ namespaces cost what a trace does (SPEC §13).
  if (EXPENSIVE_NAMESPACE.test(method)) return READ.test(method) ? EXPENSIVE_READ : EXPENSIVE_OTHER
  return READ.test(method) ? READ_INFO : OTHER
}

/** The methods whose answers about "now" may be shared for a configured moment (`realtime-ttl-ms`). */
export function realtimeMethods(): string[] {
  return [...TABLE].flatMap(([name, info]) => (info.realtime === undefined ? [] : [name]))
}

/** The single-field methods an `eth_getAccountInfo` answer is made of, by field. */
export function accountInfoFields(): [field: AccountField, method: string][] {
  const methods = new Map(
    [...TABLE].flatMap(([name, info]) => (info.accountField === undefined ? [] : [[info.accountField, name] as const])),
  )
  // In the order a node answers them: balance, nonce, code.
  return (['balance', 'nonce', 'code'] as const).map((field) => [field, methods.get(field) as string])
}

type AccountField = NonNullable<MethodInfo['accountField']>

/** The pin of a cacheable method, or undefined when its answers are never cached. */
export function pinOf(method: string): Pin | undefined {
  return TABLE.get(method)?.pin
}

/** Every method whose answers may be cached (the monitor clears the cache method by method). */
export function cacheableMethods(): string[] {
  return [...TABLE].flatMap(([name, info]) => (info.pin === undefined ? [] : [name]))
}

/** The management methods the proxy answers itself. */
export function managementMethods(): string[] {
  return [...TABLE].flatMap(([name, info]) => (info.kind === 'management' ? [name] : []))
}
