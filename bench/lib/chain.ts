/** A JSON-RPC answer as sent, with the HTTP headers it came with. */
export type Reply = { text: string; json: { id?: unknown; result?: unknown; error?: unknown }; headers: Headers }

/** POST one raw JSON-RPC body to `url`. */
export async function post(url: string, body: string): Promise<Reply> {
  const response = await fetch(url, { method: 'POST', headers: { 'content-type': 'application/json' }, body })
  const text = await response.text()
  return { text, json: JSON.parse(text), headers: response.headers }
}

/** One call; returns its result and throws on a JSON-RPC error. */
export async function rpc<T = unknown>(url: string, method: string, params: unknown[] = []): Promise<T> {
  const { json } = await post(url, JSON.stringify({ jsonrpc: '2.0', id: 1, method, params }))
  if (json.error !== undefined) throw new Error(`${method} failed: ${JSON.stringify(json.error)}`)
  return json.result as T
}

/** What the seeded chain holds: the dev accounts, block 1's transactions and a deployed contract. */
export type SeededChain = { accounts: string[]; txHashes: string[]; contract: string; head: number }

const SENDERS = 3
/** 32 bytes of calldata per transfer: with the deployment, a full block 1 answers ~5 KB. */
const CALLDATA = `0x${'c0ffee01'.repeat(8)}`
/** Init code that deploys 64 bytes of runtime code: CODECOPY(0, 12, 64); RETURN(0, 64). */
const DEPLOY = `0x6040600c60003960406000f3${'5b'.repeat(64)}`

/**
 * Put three transfers with calldata and one contract creation into block 1, then mine 150 empty
 * blocks (`anvil_mine 0x96`) so low blocks are final (anvil's finalized tag is head - 64).
 */
export async function seedChain(url: string): Promise<SeededChain> {
  const accounts = await rpc<string[]>(url, 'eth_accounts')
  await rpc(url, 'evm_setAutomine', [false])
  const txHashes: string[] = []
  for (let i = 0; i < SENDERS; i++) {
    const tx = { from: accounts[i], to: accounts[i + SENDERS], value: '0x1', data: CALLDATA }
    txHashes.push(await rpc<string>(url, 'eth_sendTransaction', [tx]))
  }
  txHashes.push(await rpc<string>(url, 'eth_sendTransaction', [{ from: accounts[SENDERS], data: DEPLOY }]))
  await rpc(url, 'evm_mine')
  await rpc(url, 'evm_setAutomine', [true])
  await rpc(url, 'anvil_mine', ['0x96'])
  const receipt = await rpc<{ contractAddress: string; blockNumber: string }>(url, 'eth_getTransactionReceipt', [
    txHashes.at(-1),
  ])
  if (receipt.blockNumber !== '0x1')
    throw new Error(`seeding: expected the transactions in block 1, got ${receipt.blockNumber}`)
  const head = Number(await rpc<string>(url, 'eth_blockNumber'))
  return { accounts, txHashes, contract: receipt.contractAddress, head }
}
