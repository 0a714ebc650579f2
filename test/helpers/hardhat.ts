/**
 * Hardhat 3 as a user runs it, against the seeded workload: a project whose one mocha test forks
 * a network (`forking` config) and reads the seeded history, and `hardhat node --fork`. Hardhat 3
 * needs Node.js 22.13+; it runs under Bun (`bun x --bun hardhat`), which is what the tests use.
 */
import { mkdirSync, rmSync, symlinkSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { readLine } from './lines.ts'
import type { Workload } from './workload.ts'

const ROOT = join(import.meta.dir, '../..')
const HARDHAT = join(ROOT, 'node_modules/hardhat/dist/src/cli.js')
/** anvil's first three accounts, which hold the seeded history (also Hardhat's own first three). */
const USERS = [
  '0xf39fd6e51aad88f6f4ce6ab8827279cfffb92266',
  '0x70997970c51812dc3a010c7d01b50e0d17dc79c8',
  '0x3c44cdddb6a900fa2b585dd299e03d12fa4293bc',
]
const TOTAL = '0x2ddbd13a'
const BY_USER = '0x71c7432a'

const CONFIG = `import hardhatMocha from '@nomicfoundation/hardhat-mocha'
import { defineConfig } from 'hardhat/config'

const token = process.env.FORK_TOKEN
export default defineConfig({
  plugins: [hardhatMocha],
  // Hardhat knows no hardfork history for anvil's chain id: without one it refuses calls at the fork block.
  chainDescriptors: { 31337: { name: 'anvil', hardforkHistory: { osaka: { blockNumber: 0 } } } },
  networks: {
    fork: {
      type: 'edr-simulated',
      forking: {
        url: process.env.FORK_URL as string,
        blockNumber: Number(process.env.FORK_BLOCK),
        httpHeaders: token === undefined ? undefined : { authorization: \`Bearer \${token}\` },
      },
    },
  },
})
`

const FORK_TEST = `import assert from 'node:assert/strict'
import { writeFileSync } from 'node:fs'
import { network } from 'hardhat'
import { readFork } from './read-fork.ts'

describe('a fork at the seeded block', () => {
  it('reads the history, then runs a transaction on top of it', async () => {
    const { provider } = await network.create('fork')
    const request = (method: string, params: unknown[]) => provider.request({ method, params })
    writeFileSync(process.env.FORK_ANSWERS as string, JSON.stringify(await readFork(request, process.env.STORE as string)))
    const data = \`0x1003e2d2\${'5'.padStart(64, '0')}\`
    await request('eth_sendTransaction', [{ from: '${USERS[0]}', to: process.env.STORE, data }])
    assert.equal(BigInt((await request('eth_call', [{ to: process.env.STORE, data: '${TOTAL}' }, 'latest'])) as string), 36n)
  })
})
`

/** The same reads, for the mocha test in the project and for the test reading anvil or `hardhat node`. */
const READ_FORK = `/** The seeded history at the fork's block (its latest): what must equal anvil's own answers there. */
export async function readFork(request: (method: string, params: unknown[]) => Promise<unknown>, store: string) {
  const block = (await request('eth_getBlockByNumber', ['latest', false])) as { number: string; hash: string }
  const at = block.number
  const call = (data: string) => request('eth_call', [{ to: store, data }, at])
  const users = ${JSON.stringify(USERS)}
  return {
    number: block.number,
    hash: block.hash,
    code: await request('eth_getCode', [store, at]),
    slot0: await request('eth_getStorageAt', [store, '0x0', at]),
    total: await call('${TOTAL}'),
    byUser: await Promise.all(users.map((user) => call('${BY_USER}' + user.slice(2).padStart(64, '0')))),
    nonces: await Promise.all(users.map((user) => request('eth_getTransactionCount', [user, at]))),
  }
}
`

export type HardhatProject = { dir: string; env: Record<string, string> }

/** Write the project under `dir`; its node_modules is this repository's (hardhat and hardhat-mocha are devDependencies). */
export function writeHardhatProject(dir: string): HardhatProject {
  mkdirSync(join(dir, 'test'), { recursive: true })
  symlinkSync(join(ROOT, 'node_modules'), join(dir, 'node_modules'))
  writeFileSync(join(dir, 'package.json'), '{ "name": "hardhat-fork", "private": true, "type": "module" }\n')
  writeFileSync(join(dir, 'hardhat.config.ts'), CONFIG)
  writeFileSync(join(dir, 'test/fork.test.ts'), FORK_TEST)
  writeFileSync(join(dir, 'test/read-fork.ts'), READ_FORK)
  // No telemetry, and Hardhat's global files (config, compiler lists) kept in the project's directory.
  const env = { HARDHAT_DISABLE_TELEMETRY: 'true', NO_COLOR: '1' } as Record<string, string>
  for (const name of ['XDG_CONFIG_HOME', 'XDG_CACHE_HOME', 'XDG_DATA_HOME']) env[name] = join(dir, '.home', name)
  return { dir, env }
}

/** The project's own reads, so the test reads anvil and `hardhat node` exactly as the fork test reads its fork. */
export async function importReadFork(project: HardhatProject) {
  return (await import(join(project.dir, 'test/read-fork.ts'))) as {
    readFork: (request: (method: string, params: unknown[]) => Promise<unknown>, store: string) => Promise<unknown>
  }
}

export type ForkRun = { code: number; output: string; answers?: unknown }

/**
 * `hardhat test mocha` with the fork at `url` and `block` (and `token` as a Bearer header). Hardhat's
 * own fork cache is emptied first, so only the proxy's cache can answer.
 */
export async function runForkTest(
  project: HardhatProject,
  workload: Workload,
  url: string,
  token?: string,
): Promise<ForkRun> {
  rmSync(join(project.dir, 'cache'), { recursive: true, force: true })
  const answersFile = join(project.dir, 'answers.json')
  rmSync(answersFile, { force: true })
  const env: Record<string, string> = {
    ...process.env,
    ...project.env,
    FORK_URL: url,
    FORK_BLOCK: String(workload.block),
    STORE: workload.store,
    FORK_ANSWERS: answersFile,
  }
  if (token !== undefined) env.FORK_TOKEN = token
  const child = Bun.spawn([process.execPath, HARDHAT, 'test', 'mocha', '--no-compile'], {
    cwd: project.dir,
    env,
    stdout: 'pipe',
    stderr: 'pipe',
  })
  const [code, out, err] = await Promise.all([
    child.exited,
    new Response(child.stdout).text(),
    new Response(child.stderr).text(),
  ])
  const file = Bun.file(answersFile)
  return { code, output: `${out}\n${err}`, answers: (await file.exists()) ? await file.json() : undefined }
}

/** `hardhat node --fork url --fork-block-number block` on a free loopback port. */
export async function startHardhatNode(project: HardhatProject, workload: Workload, url: string) {
  rmSync(join(project.dir, 'cache'), { recursive: true, force: true })
  const args = [
    'node',
    '--fork',
    url,
    '--fork-block-number',
    String(workload.block),
    '--hostname',
    '127.0.0.1',
    '--port',
    '0',
  ]
  // The config's own fork network needs its variables set even when the node is told where to fork.
  const env = { ...process.env, ...project.env, FORK_URL: url, FORK_BLOCK: String(workload.block) }
  const child = Bun.spawn([process.execPath, HARDHAT, ...args], {
    cwd: project.dir,
    env,
    stdout: 'pipe',
    stderr: 'pipe',
  })
  try {
    const match = await readLine(child.stdout, /JSON-RPC server at (http:\/\/127\.0\.0\.1:\d+)/, 20_000)
    return {
      url: match[1] as string,
      async stop() {
        child.kill()
        await child.exited
      },
    }
  } catch (error) {
    child.kill('SIGKILL')
    throw error
  }
}
