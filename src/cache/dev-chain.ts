/** Chain ids of local development nodes (anvil, hardhat, ganache). */
const DEV_CHAIN_IDS = new Set([31337, 1337])
const DEV_CLIENT = /anvil|hardhat|ganache/i

/** SPEC §5.1: a local development chain can rewrite its history at will. */
export function isDevChain(chainId: number, clientVersion: string | undefined): boolean {
  return DEV_CHAIN_IDS.has(chainId) || (clientVersion !== undefined && DEV_CLIENT.test(clientVersion))
}

const DEV_NAMESPACES = /^(evm|anvil|hardhat|ganache)_/
const READ_ONLY_DEV_METHODS = new Set([
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
])

/**
 * Whether a call may change a development chain's state or history (`evm_revert`, `evm_mine`,
 * `anvil_reset`, `anvil_set*`, `hardhat_*` ...): everything in those namespaces except known reads,
 * plus `debug_setHead`.
 */
export function rewritesHistory(method: string): boolean {
  if (method === 'debug_setHead') return true
  return DEV_NAMESPACES.test(method) && !READ_ONLY_DEV_METHODS.has(method)
}
