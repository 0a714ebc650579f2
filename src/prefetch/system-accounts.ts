/**
 * Accounts whose state a block changes before its first transaction runs (SPEC §14): a
 * transaction's prestate shows them as they were after those changes, not as they were at the
 * parent block, so no value of theirs is taken from a prestate. Ethereum's own pre-block system
 * calls: EIP-4788 stores the parent beacon root, EIP-2935 the parent block hash. Chains whose own
 * rules change state at the start of a block do it in a first transaction (OP Stack's L1 attributes
 * deposit, Arbitrum's internal start-block transaction), which the first-toucher rule covers.
 */
export const PRE_BLOCK_SYSTEM_ACCOUNTS: ReadonlySet<string> = new Set([
  // EIP-4788: the beacon roots contract.
  '0x000f3df6d732807ef1319fb7b8bb8522d0beac02',
  // EIP-2935: the block hash history contract.
  '0x0000f90827f1c53a10cb7a02335b175320002935',
])
