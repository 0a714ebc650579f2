/**
 * The debugger's workload (SPEC §10): a seeded history on anvil, and the three Foundry runs a
 * debugger user makes against it: `cast run` of a historical transaction, a forge fork test at a
 * final block, and an `anvil --fork-url` session with a fixed set of reads. Each run returns its
 * output normalized (durations and ports taken out), so runs against different endpoints can be
 * compared with a plain string equality. Shared by the end-to-end tests and the benchmark.
 */
import { mkdirSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import solc from 'solc'
import { encodeFunctionData, getAddress, parseAbi } from 'viem'
import { rpc, startAnvil } from './anvil.ts'
import { waitFor } from './wait.ts'

const ROOT = join(import.meta.dir, '../..')
const BIN = join(ROOT, 'node_modules/.bin')
/** anvil's first three unlocked accounts (its default mnemonic). */
const USERS = [
  '0xf39fd6e51aad88f6f4ce6ab8827279cfffb92266',
  '0x70997970c51812dc3a010c7d01b50e0d17dc79c8',
  '0x3c44cdddb6a900fa2b585dd299e03d12fa4293bc',
].map((address) => getAddress(address))
const AMOUNTS = [7n, 11n, 13n]
const ABI = parseAbi([
  'function add(uint256 amount)',
  'function total() view returns (uint256)',
  'function byUser(address) view returns (uint256)',
])
/** Foundry's own fork cache off everywhere: the proxy's effect is what is measured. */
const FOUNDRY_ENV = { ...process.env, FOUNDRY_NO_STORAGE_CACHING: 'true', NO_COLOR: '1' }

const STORE_SOURCE = `// SPDX-License-Identifier: MIT
pragma solidity ^0.8.20;

contract Store {
    uint256 public total;
    mapping(address => uint256) public byUser;
    event Added(address indexed user, uint256 amount);

    function add(uint256 amount) external {
        total += amount;
        byUser[msg.sender] += amount;
        emit Added(msg.sender, amount);
    }
}
`

/** What was seeded: the contract, the block its calls were mined in (final), and the last of them. */
export type Workload = {
  store: string
  /** The block holding the three `add` calls, well below the finalized one. */
  block: number
  /** The last `add` of that block: `cast run` replays the two before it first. */
  tx: string
  /** A forge project whose one test forks at `block` and checks the history. */
  forgeDir: string
}

/** Compile with solc from the npm registry (solcjs: no download, no network). */
function compileStore(): string {
  const input = {
    language: 'Solidity',
    sources: { 'Store.sol': { content: STORE_SOURCE } },
    settings: { outputSelection: { '*': { '*': ['evm.bytecode.object'] } } },
  }
  const output = JSON.parse(solc.compile(JSON.stringify(input)))
  const object = output.contracts?.['Store.sol']?.Store?.evm?.bytecode?.object
  if (typeof object !== 'string') throw new Error(`solc failed: ${JSON.stringify(output.errors)}`)
  return `0x${object}`
}

const send = async (url: string, transaction: object): Promise<string> => {
  const answer = await rpc(url, 'eth_sendTransaction', [transaction])
  if (typeof answer.result !== 'string') throw new Error(`eth_sendTransaction failed: ${JSON.stringify(answer.error)}`)
  return answer.result
}

const receipt = (url: string, hash: string) =>
  waitFor(async () => (await rpc(url, 'eth_getTransactionReceipt', [hash])).result, `the receipt of ${hash}`)

/**
 * Deploy Store, mine three `add` calls from three accounts into one block, then 80 more blocks so
 * that block is final (anvil finalizes head - 64); write the forge project under `dir`.
 */
export async function seedWorkload(nodeUrl: string, dir: string): Promise<Workload> {
  const deployed = await receipt(nodeUrl, await send(nodeUrl, { from: USERS[0], data: compileStore() }))
  const store = getAddress(deployed.contractAddress)
  await rpc(nodeUrl, 'evm_setAutomine', [false])
  const hashes: string[] = []
  for (const [index, user] of USERS.entries()) {
    const data = encodeFunctionData({ abi: ABI, functionName: 'add', args: [AMOUNTS[index] as bigint] })
    hashes.push(await send(nodeUrl, { from: user, to: store, data, gas: '0x30000' }))
  }
  await rpc(nodeUrl, 'evm_mine', [])
  await rpc(nodeUrl, 'evm_setAutomine', [true])
  const mined = await Promise.all(hashes.map((hash) => receipt(nodeUrl, hash)))
  const blocks = new Set(mined.map((entry) => entry.blockNumber))
  if (blocks.size !== 1) throw new Error(`the three calls landed in ${blocks.size} blocks`)
  await rpc(nodeUrl, 'anvil_mine', ['0x50'])
  const block = Number(mined[0].blockNumber)
  const forgeDir = join(dir, 'forge')
  writeForgeProject(forgeDir, store, block)
  return { store, block, tx: hashes.at(-1) as string, forgeDir }
}

function writeForgeProject(dir: string, store: string, block: number) {
  mkdirSync(join(dir, 'test'), { recursive: true })
  writeFileSync(
    join(dir, 'foundry.toml'),
    '[profile.default]\nsrc = "test"\ntest = "test"\nout = "out"\nlibs = []\noffline = true\n',
  )
  const total = AMOUNTS.reduce((sum, amount) => sum + amount, 0n)
  writeFileSync(
    join(dir, 'test/History.t.sol'),
    `// SPDX-License-Identifier: MIT
pragma solidity ^0.8.20;

interface IStore {
    function total() external view returns (uint256);
    function byUser(address user) external view returns (uint256);
    function add(uint256 amount) external;
}

/// Forked at block ${block}: the history seeded there, then a call on top of it.
contract HistoryTest {
    IStore constant STORE = IStore(${store});

    function test_history() public {
        require(STORE.total() == ${total}, "total");
        require(STORE.byUser(${USERS[1]}) == ${AMOUNTS[1]}, "byUser");
        require(${USERS[2]}.balance > 0, "balance");
        STORE.add(5);
        require(STORE.total() == ${total + 5n}, "total after add");
    }
}
`,
  )
  // forge calls a native solc; this wraps solcjs from the npm registry in its command line.
  const wrapper = join(dir, 'solc')
  writeFileSync(
    wrapper,
    `#!/usr/bin/env node
const solc = require(${JSON.stringify(join(ROOT, 'node_modules/solc'))})
if (process.argv.includes('--version')) {
  console.log('solc, the solidity compiler commandline interface\\nVersion: ' + solc.version().replace('.Emscripten.clang', '.Linux.g++'))
  process.exit(0)
}
let input = ''
process.stdin.on('data', (chunk) => (input += chunk))
process.stdin.on('end', () => process.stdout.write(solc.compile(input)))
`,
    { mode: 0o755 },
  )
}

/** Compile the forge project once, so the timed runs measure the fork, not the compiler. */
export async function buildForgeProject(workload: Workload): Promise<void> {
  await run([
    join(BIN, 'forge'),
    'build',
    '--root',
    workload.forgeDir,
    '--use',
    join(workload.forgeDir, 'solc'),
    '--offline',
  ])
}

/** Durations, and the endpoint a run was pointed at, out of a tool's output. */
export function normalize(output: string, url: string): string {
  return output
    .replaceAll(url, '<rpc>')
    .replace(/\d+(\.\d+)?\s?(ns|µs|us|ms|s)\b/g, '<time>')
    .replace(/\r/g, '')
}

async function run(command: string[]): Promise<string> {
  const child = Bun.spawn(command, { stdout: 'pipe', stderr: 'pipe', env: FOUNDRY_ENV })
  const [code, out, err] = await Promise.all([
    child.exited,
    new Response(child.stdout).text(),
    new Response(child.stderr).text(),
  ])
  if (code !== 0) throw new Error(`${command[0]?.split('/').at(-1)} exited ${code}:\n${out}\n${err}`)
  return out
}

/** `cast run <tx>`: the transaction replayed on its block, after the ones before it. */
export async function castRun(workload: Workload, url: string): Promise<string> {
  return normalize(await run([join(BIN, 'cast'), 'run', workload.tx, '--rpc-url', url]), url)
}

/** `forge test --fork-url` at the seeded block, Foundry's storage cache off. */
export async function forgeForkTest(workload: Workload, url: string): Promise<string> {
  const out = await run([
    join(BIN, 'forge'),
    'test',
    '--root',
    workload.forgeDir,
    '--use',
    join(workload.forgeDir, 'solc'),
    '--offline',
    '--fork-url',
    url,
    '--fork-block-number',
    String(workload.block),
    '--no-storage-caching',
  ])
  if (!out.includes('1 passed')) throw new Error(`the fork test did not pass:\n${out}`)
  return normalize(out, url)
}

/** `anvil --fork-url` at the seeded block, then a fixed set of reads (and one call on top), as JSON. */
export async function anvilForkSession(workload: Workload, url: string): Promise<string> {
  const fork = await startAnvil([
    '--fork-url',
    url,
    '--fork-block-number',
    String(workload.block),
    '--no-storage-caching',
  ])
  try {
    const read = async (method: string, params: unknown[]) => (await rpc(fork.url, method, params)).result
    const call = (functionName: 'total' | 'byUser', args: readonly [] | readonly [`0x${string}`]) =>
      read('eth_call', [
        { to: workload.store, data: encodeFunctionData({ abi: ABI, functionName, args } as never) },
        'latest',
      ])
    const answers = {
      chainId: await read('eth_chainId', []),
      block: (await read('eth_getBlockByNumber', ['latest', false]))?.hash,
      code: await read('eth_getCode', [workload.store, 'latest']),
      slot0: await read('eth_getStorageAt', [workload.store, '0x0', 'latest']),
      total: await call('total', []),
      byUser: await Promise.all(USERS.map((user) => call('byUser', [user as `0x${string}`]))),
      balances: await Promise.all(USERS.map((user) => read('eth_getBalance', [user, 'latest']))),
      nonces: await Promise.all(USERS.map((user) => read('eth_getTransactionCount', [user, 'latest']))),
      transaction: (await read('eth_getTransactionByHash', [workload.tx]))?.blockNumber,
    }
    return JSON.stringify(answers, null, 2)
  } finally {
    await fork.stop()
  }
}

/** The three runs, by name. */
export const WORKLOAD_RUNS = {
  'cast run': castRun,
  'forge fork test': forgeForkTest,
  'anvil --fork-url': anvilForkSession,
} as const
