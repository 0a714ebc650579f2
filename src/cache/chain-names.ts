/** Directory names of well-known chains, as the Rust reference (alloy-chains) spells them (SPEC §5.4). */
const CHAIN_NAMES: ReadonlyMap<number, string> = new Map([
  [1, 'mainnet'],
  [10, 'optimism'],
  [56, 'bsc'],
  [100, 'gnosis'],
  [137, 'polygon'],
  [250, 'fantom'],
  [324, 'zksync'],
  [1337, 'dev'],
  [5000, 'mantle'],
  [8453, 'base'],
  [17000, 'holesky'],
  [31337, 'anvil-hardhat'],
  [42161, 'arbitrum'],
  [42170, 'arbitrum-nova'],
  [42220, 'celo'],
  [43114, 'avalanche'],
  [59144, 'linea'],
  [80002, 'polygon-amoy'],
  [81457, 'blast'],
  [84532, 'base-sepolia'],
  [421614, 'arbitrum-sepolia'],
  [534352, 'scroll'],
  [560048, 'hoodi'],
  [11155111, 'sepolia'],
  [11155420, 'optimism-sepolia'],
])

/** The cache directory name of a chain: its name when well known, else its decimal id. */
export function chainDirName(chainId: number): string {
  return CHAIN_NAMES.get(chainId) ?? String(chainId)
}
