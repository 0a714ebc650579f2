import { afterAll, beforeAll, describe, expect, test } from 'bun:test'
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { type Anvil, rpc, startAnvil } from '../helpers/anvil.ts'
import { freePort } from '../helpers/ports.ts'
import { type ProxyProcess, serverArgs, spawnProxy } from '../helpers/proxy.ts'
import { startScriptedUpstream } from '../helpers/upstream.ts'
import { waitFor } from '../helpers/wait.ts'

const dir = mkdtempSync(join(tmpdir(), 'edb-rpc-proxy-bin-'))
const BINARY = [join(dir, 'edb-rpc-proxy')]
let anvil: Anvil
const running: ProxyProcess[] = []
const debuggers: ReturnType<typeof Bun.spawn>[] = []

beforeAll(async () => {
  const build = Bun.spawn([process.execPath, 'build.ts', `--outfile=${BINARY[0]}`], {
    cwd: join(import.meta.dir, '../..'),
    stdout: 'pipe',
    stderr: 'pipe',
  })
  expect(await build.exited).toBe(0)
  anvil = await startAnvil()
}, 120_000)
afterAll(async () => {
  for (const proxy of running) proxy.process.kill('SIGKILL')
  for (const child of debuggers) child.kill('SIGKILL')
  await anvil.stop()
  rmSync(dir, { recursive: true, force: true })
})

async function spawn(args: string[], waitForListening = true, env: Record<string, string> = {}) {
  const proxy = await spawnProxy(BINARY, args, { waitForListening, env })
  running.push(proxy)
  return proxy
}

/** A stand-in debugger: a real process whose pid registers with the proxy. */
function spawnDebugger() {
  const child = Bun.spawn(['sleep', '600'])
  debuggers.push(child)
  return child
}

const call = async (url: string, method: string, params: unknown[] = [], id: unknown = 1) =>
  rpc(url, method, params, id)

/** EDB polls edb_ping (2 s timeout) until the body is JSON without an `error` key. */
async function edbWaitsForPing(url: string) {
  return waitFor(async () => {
    const response = await fetch(url, {
      method: 'POST',
      body: '{"jsonrpc":"2.0","method":"edb_ping","params":[],"id":1}',
      signal: AbortSignal.timeout(2_000),
    })
    const json: any = await response.json()
    return !('error' in json) && json
  }, 'edb_ping')
}

describe('the compiled binary', () => {
  test('default', async () => {
    const child = Bun.spawn([...BINARY, '--version'], { stdout: 'pipe' })
    expect(await child.exited).toBe(0)
    expect(await new Response(child.stdout).text()).toMatch(/^edb-rpc-proxy \d+\.\d+\.\d+\n$/)
  })

  test('behavior: spawned exactly as EDB spawns it, it answers ping, register, heartbeats and calls, and stops on SIGTERM with 0', async () => {
    const port = freePort()
    const proxy = await spawn([
      'server',
      '--port',
      String(port),
      '--grace-period',
      '30',
      '--heartbeat-interval',
      '10',
      '--rpc-urls',
      anvil.url,
    ])
    const url = `http://127.0.0.1:${port}`
    expect(proxy.url).toBe(url)
    const ping = await edbWaitsForPing(url)
    expect(ping).toEqual({
      jsonrpc: '2.0',
      id: 1,
      result: { status: 'ok', service: 'edb-rpc-proxy', timestamp: expect.any(Number) },
    })
    const edb = spawnDebugger()
    const now = Math.floor(Date.now() / 1000)
    expect(await call(url, 'edb_register', [edb.pid, now])).toEqual({
      jsonrpc: '2.0',
      id: 1,
      result: { status: 'registered', pid: edb.pid },
    })
    for (let beat = 0; beat < 3; beat++) {
      const reply = await call(url, 'edb_heartbeat', [edb.pid])
      expect(reply.result).toEqual({ status: 'ok', pid: edb.pid, registered_at: expect.any(Number) })
      expect(Math.abs(reply.result.registered_at - now)).toBeLessThanOrEqual(2)
    }
    expect((await call(url, 'edb_active_instances')).result).toEqual({ active_instances: [edb.pid], count: 1 })
    for (const [method, params] of [
      ['eth_chainId', []],
      ['eth_getBlockByNumber', ['0x0', false]],
      ['eth_getBalance', ['0xf39Fd6e51aad88F6F4ce6aB8827279cffFb92266', '0x0']],
    ] as const) {
      expect(await call(url, method, [...params], 'x')).toEqual(await rpc(anvil.url, method, [...params], 'x'))
    }
    const info = (await call(url, 'edb_info')).result
    expect(info).toEqual({
      service: 'edb-rpc-proxy',
      version: expect.any(String),
      uptime: expect.any(Number),
      started_at: expect.any(Number),
      pid: proxy.process.pid,
    })
    proxy.process.kill('SIGTERM')
    expect(await proxy.exited).toBe(0)
  })

  test('behavior: it shuts itself down after the grace period once its debugger is gone', async () => {
    const proxy = await spawn(serverArgs(anvil.url, '--grace-period', '1', '--heartbeat-interval', '1'))
    const edb = spawnDebugger()
    await call(proxy.url!, 'edb_register', [edb.pid, Math.floor(Date.now() / 1000)])
    expect((await call(proxy.url!, 'edb_active_instances')).result.count).toBe(1)
    edb.kill('SIGKILL')
    await edb.exited
    expect(await proxy.exited).toBe(0)
    expect(proxy.output.join('')).toContain('shutting down (grace-period)')
  })

  test('behavior: a heartbeat from a live but unknown debugger re-registers it (a restarted proxy keeps its debuggers)', async () => {
    const proxy = await spawn(serverArgs(''))
    const edb = spawnDebugger()
    expect((await call(proxy.url!, 'edb_heartbeat', [edb.pid])).result).toMatchObject({ status: 'ok', pid: edb.pid })
    expect((await call(proxy.url!, 'edb_active_instances')).result).toEqual({ active_instances: [edb.pid], count: 1 })
    expect(await call(proxy.url!, 'edb_heartbeat', [2 ** 31 - 2])).toEqual({
      jsonrpc: '2.0',
      id: 1,
      error: { code: -32000, message: 'Unknown EDB instance' },
    })
    for (const params of [[0], [-5], ['123'], [1.5], []]) {
      expect((await call(proxy.url!, 'edb_heartbeat', params)).error.code).toBe(-32602)
      expect((await call(proxy.url!, 'edb_register', params)).error.code).toBe(-32602)
    }
    proxy.process.kill('SIGINT')
    expect(await proxy.exited).toBe(0)
  })

  test('behavior: edb_shutdown answers, then the process exits 0', async () => {
    const proxy = await spawn(serverArgs(anvil.url))
    expect(await call(proxy.url!, 'edb_shutdown', [], 'bye')).toEqual({
      jsonrpc: '2.0',
      id: 'bye',
      result: { status: 'shutting_down', message: 'Server shutdown initiated' },
    })
    expect(await proxy.exited).toBe(0)
  })

  test('behavior: SIGTERM lets an in-flight call finish; a second signal exits at once', async () => {
    let release!: () => void
    let gate = Promise.resolve()
    const closeGate = () => (gate = new Promise<void>((resolve) => (release = resolve)))
    // Only the test's own calls wait at the gate; detection and head tracking are answered at once.
    const slow = startScriptedUpstream(async (request) => {
      if (request.method !== 'eth_gasPrice' && request.method !== 'eth_getBalance') return '0x1'
      await gate
      return '0xslow'
    })
    closeGate()
    try {
      const first = await spawn(serverArgs(slow.url, '--upstream-timeout-ms', '20000'))
      const inflight = call(first.url!, 'eth_gasPrice', [], 'inflight')
      await waitFor(() => slow.hits.some((hit) => hit.body.method === 'eth_gasPrice'), 'the call to reach the upstream')
      first.process.kill('SIGTERM')
      await waitFor(() => first.output.join('').includes('shutting down (SIGTERM)'), 'the shutdown to begin')
      release()
      expect(await inflight).toEqual({ jsonrpc: '2.0', id: 'inflight', result: '0xslow' })
      expect(await first.exited).toBe(0)

      const hits = slow.hits.length
      closeGate()
      const second = await spawn(serverArgs(slow.url, '--upstream-timeout-ms', '20000'))
      const stuck = call(second.url!, 'eth_getBalance', ['0x01', '0x1']).catch(() => 'cut')
      await waitFor(
        () => slow.hits.slice(hits).some((hit) => hit.body.method === 'eth_getBalance'),
        'the second call to reach the upstream',
      )
      second.process.kill('SIGTERM')
      await waitFor(() => second.output.join('').includes('shutting down (SIGTERM)'), 'the shutdown to begin')
      second.process.kill('SIGTERM')
      expect(await second.exited).toBe(1)
      expect(await stuck).toBe('cut')
    } finally {
      release()
      await slow.stop()
    }
  })

  test('behavior: 1,000 concurrent calls to a healthy provider answering in 0.8 s all succeed (the runtime fetch cap is raised, same pid)', async () => {
    const slow = startScriptedUpstream(async (request) => {
      if (request.method === 'eth_chainId') return '0x1'
      if (request.method === 'eth_getBalance') await Bun.sleep(800)
      return '0x1'
    })
    try {
      // Bun's own cap (256) made three quarters of these wait on the attempt's clock and time out.
      const proxy = await spawn(serverArgs(slow.url, '--upstream-timeout-ms', '1500'), true, {
        BUN_CONFIG_MAX_HTTP_REQUESTS: '256',
      })
      const environ = await Bun.file(`/proc/${proxy.process.pid}/environ`).text()
      expect(environ.split('\0')).toContain('BUN_CONFIG_MAX_HTTP_REQUESTS=272')
      const burst = Bun.spawn([process.execPath, join(import.meta.dir, '../helpers/burst.ts'), proxy.url!, '1000'], {
        stdout: 'pipe',
        env: { ...process.env, BUN_CONFIG_MAX_HTTP_REQUESTS: '2000' },
      })
      expect(await burst.exited).toBe(0)
      expect(JSON.parse(await new Response(burst.stdout).text())).toEqual({ answered: 1000, errors: [] })
      const providers = (await call(proxy.url!, 'edb_providers')).result.providers
      expect(providers[0]).toMatchObject({ is_healthy: true, state: 'closed' })
    } finally {
      await slow.stop()
    }
  })

  test('behavior: monitor loads its dashboard code, split into its own chunk, and names an unreachable proxy', async () => {
    const url = `http://127.0.0.1:${freePort()}`
    const child = Bun.spawn([...BINARY, 'monitor', url], { stdout: 'pipe', stderr: 'pipe' })
    expect(await child.exited).toBe(1)
    expect(await new Response(child.stderr).text()).toContain(`error: cannot reach the proxy at ${url}`)
  })

  test('behavior: upstreams on different chains are a startup error naming them', async () => {
    const one = startScriptedUpstream(() => '0x1')
    const other = startScriptedUpstream(() => '0x89', '/v2/AbCdEf123456ghijKLmn')
    try {
      const proxy = await spawn(serverArgs(`${one.url},${other.url}`))
      expect(await proxy.exited).toBe(1)
      const output = proxy.output.join('')
      expect(output).toContain('upstream providers serve different chains')
      expect(output).toContain(`chain 1: ${one.url.replace(/\/$/, '')}`)
      expect(output).toContain('chain 137: http://127.0.0.1:')
      expect(output).toMatch(/chain 137: http:\/\/127\.0\.0\.1:\d+\/<#[0-9a-f]{8}>/)
      expect(output).not.toContain('AbCdEf123456ghijKLmn')
    } finally {
      await one.stop()
      await other.stop()
    }
  })
})
