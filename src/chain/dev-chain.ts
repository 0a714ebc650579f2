/** Chain ids of local development nodes (anvil, hardhat, ganache). */
const DEV_CHAIN_IDS = new Set([31337, 1337])
const DEV_CLIENT = /anvil|hardhat|ganache/i

/** SPEC §5.1 and §8: a local development chain can rewrite its history at will; any development client makes the chain one. */
export function isDevChain(chainId: number, clientVersions: readonly string[]): boolean {
  return DEV_CHAIN_IDS.has(chainId) || clientVersions.some((version) => DEV_CLIENT.test(version))
}
