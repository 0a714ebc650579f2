import { join } from 'node:path'
import type { Child, Children } from './children.ts'

const ROOT = join(import.meta.dir, '../..')
const ANVIL = join(ROOT, 'node_modules/.bin/anvil')
const LISTENING = /listening on (http:\/\/\S+)/
const START_TIMEOUT_MS = 20_000

/** A server under test (or its upstream), reachable at `url`. */
export type Server = { name: string; url: string; child: Child }

/** The two baselines of SPEC §10: A never reads the body, A_body reads it first. */
export type BaselineMode = 'const' | 'body'

/** Start `bench/baseline-server.ts <mode>` on a free loopback port. */
export function startBaseline(children: Children, name: string, mode: BaselineMode, core: number): Promise<Server> {
  return startBenchScript(children, name, 'baseline-server.ts', [mode], core)
}

/** Start `bench/naive-proxy.ts` (a Map and fetch(), SPEC §10's naive Bun proxy) in front of `upstreamUrl`. */
export function startNaiveProxy(children: Children, upstreamUrl: string, core: number): Promise<Server> {
  return startBenchScript(children, 'naive', 'naive-proxy.ts', [upstreamUrl], core)
}

/** Start `bench/counting-forwarder.ts` in front of `upstreamUrl` (counts upstream requests per call). */
export function startCountingForwarder(children: Children, upstreamUrl: string, core: number): Promise<Server> {
  return startBenchScript(children, 'forwarder', 'counting-forwarder.ts', [upstreamUrl], core)
}

/** Run a script of bench/ with Bun and wait for its "listening on <url>" line. */
async function startBenchScript(
  children: Children,
  name: string,
  script: string,
  args: string[],
  core: number,
): Promise<Server> {
  const child = children.start(name, [process.execPath, join(ROOT, 'bench', script), ...args], { core })
  const match = await child.stdout.waitFor(LISTENING, START_TIMEOUT_MS)
  return { name, url: match[1]!.replace(/\/$/, ''), child }
}

/** Start anvil on a free loopback port and read its "Listening on" line. */
export async function startAnvil(children: Children, core: number): Promise<Server> {
  const child = children.start('anvil', [ANVIL, '--host', '127.0.0.1', '--port', '0'], { core })
  const match = await child.stdout.waitFor(/Listening on 127\.0\.0\.1:(\d+)/, START_TIMEOUT_MS)
  return { name: 'anvil', url: `http://127.0.0.1:${match[1]}`, child }
}

/** Where the proxy's upstreams come from: one URL (`--rpc-urls`), or a config file (`--config`, e.g. its `providers:`). */
export type ProxyUpstream = string | { config: string }

/**
 * Start the proxy from source in front of `upstream`, with its cache under `cacheDir`.
 * `--dev-chain no` keeps anvil's answers cacheable; an older proxy without the flag exits 2,
 * and is then started without it.
 */
export async function startProxy(
  children: Children,
  upstream: ProxyUpstream,
  cacheDir: string,
  core: number,
  extra: string[] = [],
): Promise<Server & { notes: string[] }> {
  const base = [
    'server',
    '--host',
    '127.0.0.1',
    '--port',
    '0',
    ...(typeof upstream === 'string' ? ['--rpc-urls', upstream] : ['--config', upstream.config]),
    '--cache-dir',
    cacheDir,
    ...extra,
  ]
  const first = await tryStartProxy(children, [...base, '--dev-chain', 'no'], core)
  if (first.url !== undefined) return { name: 'proxy', url: first.url, child: first.child, notes: [] }
  if (first.exitCode !== 2) throw new Error(`the proxy exited with ${first.exitCode}:\n${first.output}`)
  const second = await tryStartProxy(children, base, core)
  if (second.url === undefined) throw new Error(`the proxy exited with ${second.exitCode}:\n${second.output}`)
  return {
    name: 'proxy',
    url: second.url,
    child: second.child,
    notes: ['the proxy rejected --dev-chain (exit 2); started without it'],
  }
}

async function tryStartProxy(children: Children, args: string[], core: number) {
  const child = children.start('proxy', [process.execPath, join(ROOT, 'src/main.ts'), ...args], {
    core,
    env: proxyEnv(),
  })
  try {
    const match = await child.stdout.waitFor(LISTENING, START_TIMEOUT_MS)
    return { child, url: match[1]!.replace(/\/$/, '') }
  } catch (error) {
    await child.stop()
    const exitCode = await child.exited
    return { child, url: undefined, exitCode, output: `${child.stdout.text()}${child.stderr.text()}` || String(error) }
  }
}

/** The caller's environment without EDB_PROXY_* settings, so only the flags above configure the proxy. */
function proxyEnv(): Record<string, string | undefined> {
  return Object.fromEntries(Object.entries(Bun.env).filter(([name]) => !name.startsWith('EDB_PROXY_')))
}
