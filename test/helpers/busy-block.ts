/**
 * A busy block on a fresh anvil (SPEC §10 "The first run"): one block of 40 transactions from 40
 * accounts, each reading and writing 12 storage slots keyed by its sender and sending value to two
 * other accounts, so about 480 slots and 120 accounts at the parent block. What each transaction
 * touches is taken from anvil's own `prestateTracer`, so a replaying client knows what to ask.
 * Shared by the end-to-end tests and the benchmark.
 */
import { join } from 'node:path'
import solc from 'solc'
import { encodeFunctionData, getAddress, type Hex, keccak256, parseAbi, toHex } from 'viem'
import { privateKeyToAccount } from 'viem/accounts'
import { rpc } from './anvil.ts'
import { waitFor } from './wait.ts'
import { normalize } from './workload.ts'

const CAST = join(import.meta.dir, '../../node_modules/.bin/cast')
/** Foundry's own fork cache off: the proxy's effect is what is measured. */
const FOUNDRY_ENV = { ...process.env, FOUNDRY_NO_STORAGE_CACHING: 'true', NO_COLOR: '1' }
const TRANSACTIONS = 40
export const SLOTS_PER_TRANSACTION = 12
/** Above the head - 64 anvil finalizes, with room: the busy block and its parent are final. */
const BLOCKS_ON_TOP = 72
const ABI = parseAbi(['function work(address a, address b) payable'])
const GWEI = 1_000_000_000n

const BUSY_SOURCE = `// SPDX-License-Identifier: MIT
pragma solidity ^0.8.20;

contract Busy {
    mapping(address => mapping(uint256 => uint256)) public slots;

    function work(address payable a, address payable b) external payable {
        for (uint256 i = 0; i < ${SLOTS_PER_TRANSACTION}; i++) slots[msg.sender][i] += i + 1;
        a.transfer(msg.value / 2);
        b.transfer(msg.value - msg.value / 2);
    }
}
`

/** One state read a replaying client makes at the parent block. */
export type StateRead = { method: string; params: unknown[] }

/** What was seeded: the busy block, its transactions in block order, and what each touches. */
export type BusyBlock = {
  contract: string
  /** The busy block (final). */
  block: number
  /** The block before it, whose state a replay reads (final). */
  parent: number
  /** The block's transactions, in block order. */
  txs: string[]
  senders: string[]
  recipients: string[]
  /** Per transaction, in block order: the accounts and slots its prestate lists (anvil's `prestateTracer`). */
  touched: { accounts: string[]; slots: { address: string; slot: string }[] }[]
}

/** Which transaction of the block a replay targets: the last (everything before it replayed first) or the middle one. */
export type ReplayTarget = 'last' | 'middle'

/** The index in the block of the transaction `target` names. */
export function targetIndex(busy: BusyBlock, target: ReplayTarget): number {
  return target === 'last' ? busy.txs.length - 1 : Math.floor(busy.txs.length / 2)
}

/** Compile with solc from the npm registry (solcjs: no download, no network). */
function compileBusy(): Hex {
  const input = {
    language: 'Solidity',
    sources: { 'Busy.sol': { content: BUSY_SOURCE } },
    settings: { optimizer: { enabled: true, runs: 200 }, outputSelection: { '*': { '*': ['evm.bytecode.object'] } } },
  }
  const output = JSON.parse(solc.compile(JSON.stringify(input)))
  const object = output.contracts?.['Busy.sol']?.Busy?.evm?.bytecode?.object
  if (typeof object !== 'string') throw new Error(`solc failed: ${JSON.stringify(output.errors)}`)
  return `0x${object}`
}

async function call(url: string, method: string, params: unknown[] = []): Promise<any> {
  const answer = await rpc(url, method, params)
  if (answer.error !== undefined) throw new Error(`${method} failed: ${JSON.stringify(answer.error)}`)
  return answer.result
}

const receipt = (url: string, hash: string) =>
  waitFor(async () => (await rpc(url, 'eth_getTransactionReceipt', [hash])).result, `the receipt of ${hash}`)

/** Deterministic keys, so every seeding yields the same accounts. */
const keyOf = (label: string, index: number) => keccak256(toHex(`edb-rpc-proxy busy block ${label} ${index}`))

/**
 * Deploy Busy; fund 40 senders; mine one block where each calls `work` once (so the slots and
 * nonces are not empty at the parent), then the busy block where each calls it again, then 72
 * blocks on top so both are final. `nodeUrl` must be a fresh anvil.
 */
export async function seedBusyBlock(nodeUrl: string): Promise<BusyBlock> {
  const chainId = Number(await call(nodeUrl, 'eth_chainId'))
  const [deployer] = (await call(nodeUrl, 'eth_accounts')) as string[]
  const deployHash = await call(nodeUrl, 'eth_sendTransaction', [{ from: deployer, data: compileBusy() }])
  const contract = getAddress((await receipt(nodeUrl, deployHash)).contractAddress)
  const senders = Array.from({ length: TRANSACTIONS }, (_, index) => privateKeyToAccount(keyOf('sender', index)))
  const recipients = Array.from({ length: 2 * TRANSACTIONS }, (_, index) =>
    getAddress(privateKeyToAccount(keyOf('recipient', index)).address),
  )
  for (const sender of senders) await call(nodeUrl, 'anvil_setBalance', [sender.address, toHex(10n ** 19n)])
  const mineRound = async (nonce: number) => {
    await call(nodeUrl, 'evm_setAutomine', [false])
    const hashes: string[] = []
    for (const [index, sender] of senders.entries()) {
      const data = encodeFunctionData({
        abi: ABI,
        functionName: 'work',
        args: [recipients[2 * index] as Hex, recipients[2 * index + 1] as Hex],
      })
      const raw = await sender.signTransaction({
        type: 'eip1559',
        chainId,
        nonce,
        to: contract,
        data,
        value: 1_000n + BigInt(index),
        gas: 400_000n,
        maxFeePerGas: 20n * GWEI,
        maxPriorityFeePerGas: GWEI,
      })
      hashes.push(await call(nodeUrl, 'eth_sendRawTransaction', [raw]))
    }
    await call(nodeUrl, 'evm_mine')
    await call(nodeUrl, 'evm_setAutomine', [true])
    const mined = await Promise.all(hashes.map((hash) => receipt(nodeUrl, hash)))
    const blocks = new Set(mined.map((entry) => entry.blockNumber))
    if (blocks.size !== 1) throw new Error(`the ${TRANSACTIONS} calls landed in ${blocks.size} blocks`)
    if (mined.some((entry) => entry.status !== '0x1')) throw new Error('a call of the busy block reverted')
    return Number(mined[0].blockNumber)
  }
  await mineRound(0)
  const block = await mineRound(1)
  await call(nodeUrl, 'anvil_mine', [toHex(BLOCKS_ON_TOP)])
  const { transactions } = await call(nodeUrl, 'eth_getBlockByNumber', [toHex(block), false])
  const traces = (await call(nodeUrl, 'debug_traceBlockByNumber', [toHex(block), { tracer: 'prestateTracer' }])) as {
    result: Record<string, { storage?: Record<string, string> }>
  }[]
  if (traces.length !== transactions.length) throw new Error('the prestate trace does not cover the block')
  const touched = traces.map(({ result }) => ({
    accounts: Object.keys(result).map((address) => getAddress(address)),
    slots: Object.entries(result).flatMap(([address, state]) =>
      Object.keys(state.storage ?? {}).map((slot) => ({ address: getAddress(address), slot })),
    ),
  }))
  return {
    contract,
    block,
    parent: block - 1,
    txs: transactions as string[],
    senders: senders.map((sender) => getAddress(sender.address)),
    recipients,
    touched,
  }
}

/**
 * The reads a replay of transaction `index` makes at the parent block, one per account field and
 * slot that the block touches up to and including it, first-seen order, no repeats.
 */
export function stateReads(busy: BusyBlock, index: number): StateRead[] {
  const at = toHex(busy.parent)
  const accounts = new Set<string>()
  const slots = new Map<string, { address: string; slot: string }>()
  for (const touched of busy.touched.slice(0, index + 1)) {
    for (const account of touched.accounts) accounts.add(account)
    for (const entry of touched.slots) slots.set(`${entry.address} ${entry.slot}`, entry)
  }
  return [
    ...[...accounts].flatMap((account) =>
      ['eth_getBalance', 'eth_getTransactionCount', 'eth_getCode'].map((method) => ({ method, params: [account, at] })),
    ),
    ...[...slots.values()].map(({ address, slot }) => ({ method: 'eth_getStorageAt', params: [address, slot, at] })),
  ]
}

/** `cast run <tx>`: the transaction replayed on its block after the ones before it; output normalized. */
export async function castRunTx(hash: string, url: string): Promise<string> {
  const child = Bun.spawn([CAST, 'run', hash, '--rpc-url', url], { stdout: 'pipe', stderr: 'pipe', env: FOUNDRY_ENV })
  const [code, out, err] = await Promise.all([
    child.exited,
    new Response(child.stdout).text(),
    new Response(child.stderr).text(),
  ])
  if (code !== 0) throw new Error(`cast run exited ${code}:\n${out}\n${err}`)
  return normalize(out, url)
}
