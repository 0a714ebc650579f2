/**
 * Smoke-test a built binary the way the EDB debugger uses it: spawned detached with stdio
 * discarded and EDB's exact flags, polled with edb_ping, registered, heart-beaten, asked
 * Ethereum calls that must equal anvil's own answers, then stopped with SIGTERM (exit 0).
 * Usage: bun scripts/smoke.ts dist/edb-rpc-proxy
 */
import { resolve } from 'node:path'
import { rpc, startAnvil } from '../test/helpers/anvil.ts'
import { freePort } from '../test/helpers/ports.ts'
import { waitFor } from '../test/helpers/wait.ts'

const binary = resolve(process.argv[2] ?? 'dist/edb-rpc-proxy')
const anvil = await startAnvil()
const port = freePort()
const url = `http://127.0.0.1:${port}`
const args = [
  'server',
  '--port',
  String(port),
  '--grace-period',
  '30',
  '--heartbeat-interval',
  '10',
  '--rpc-urls',
  anvil.url,
]
const proxy = Bun.spawn([binary, ...args], { stdin: 'ignore', stdout: 'ignore', stderr: 'ignore', detached: true })
const check = (what: string, ok: boolean, detail: unknown = '') => {
  console.log(`${ok ? 'ok  ' : 'FAIL'} ${what}${ok ? '' : ` ${JSON.stringify(detail)}`}`)
  if (!ok) process.exitCode = 1
}
try {
  const startedAt = performance.now()
  const ping = await waitFor(
    async () => {
      const reply: any = await rpc(url, 'edb_ping', [], 1)
      return !('error' in reply) && reply
    },
    'edb_ping',
    15_000,
  )
  check(
    `edb_ping answered ${Math.round(performance.now() - startedAt)} ms after spawn`,
    ping.result?.status === 'ok',
    ping,
  )
  const register = await rpc(url, 'edb_register', [process.pid, Math.floor(Date.now() / 1000)])
  check('edb_register', register.result?.status === 'registered' && register.result?.pid === process.pid, register)
  const heartbeat = await rpc(url, 'edb_heartbeat', [process.pid])
  check('edb_heartbeat', heartbeat.result?.status === 'ok', heartbeat)
  for (const [method, params] of [
    ['eth_chainId', []],
    ['eth_getBlockByNumber', ['0x0', true]],
    ['eth_getBalance', ['0xf39Fd6e51aad88F6F4ce6aB8827279cffFb92266', '0x0']],
  ] as const) {
    const [viaProxy, direct] = [await rpc(url, method, [...params], 7), await rpc(anvil.url, method, [...params], 7)]
    check(`${method} equals anvil's answer`, JSON.stringify(viaProxy) === JSON.stringify(direct), viaProxy)
  }
  proxy.kill('SIGTERM')
  const code = await proxy.exited
  check('SIGTERM exits 0', code === 0, code)
} finally {
  proxy.kill('SIGKILL')
  await anvil.stop()
}
