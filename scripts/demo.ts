/**
 * Self-contained demo: a local anvil (from the npm registry) as the upstream, the proxy on
 * 127.0.0.1:8546 (or $EDB_PROXY_PORT), a few example calls printed, then it keeps serving
 * until Ctrl-C.
 */
import { join } from 'node:path'
import { rpc, startAnvil } from '../test/helpers/anvil.ts'
import { readLine } from '../test/helpers/lines.ts'

const port = process.env.EDB_PROXY_PORT ?? '8546'
const anvil = await startAnvil(['--block-time', '2'])
const proxy = Bun.spawn([process.execPath, join(import.meta.dir, '../src/main.ts'), 'server', '--port', port, '--rpc-urls', anvil.url], {
  stdout: 'pipe',
  stderr: 'inherit',
})
const stop = async (code: number) => {
  proxy.kill('SIGTERM')
  await proxy.exited
  await anvil.stop()
  process.exit(code)
}
process.on('SIGINT', () => void stop(0))
process.on('SIGTERM', () => void stop(0))

const ready = await readLine(proxy.stdout, /listening on (http:\/\/\S+)/, 15_000, {
  push: (text: string) => process.stdout.write(text),
}).catch(() => undefined)
if (ready === undefined) {
  console.error(`the proxy did not start (is port ${port} free?)`)
  await stop(1)
}
const url = ready![1]!
console.log(`anvil upstream: ${anvil.url}\nproxy:          ${url}\n`)

const examples: [string, unknown[]][] = [
  ['edb_ping', []],
  ['eth_chainId', []],
  ['eth_blockNumber', []],
  ['eth_getBalance', ['0xf39Fd6e51aad88F6F4ce6aB8827279cffFb92266', '0x0']],
  ['eth_getBlockByNumber', ['0x0', false]],
]
for (const [method, params] of examples) {
  const reply = await rpc(url, method, params, method)
  const shown = JSON.stringify(reply)
  console.log(`→ ${method} ${JSON.stringify(params)}\n← ${shown.length > 200 ? `${shown.slice(0, 200)}…` : shown}\n`)
}
const health = await (await fetch(`${url}/health`)).text()
console.log(`GET /health ← ${health}\n`)
console.log(`Try it:  curl -s ${url} -d '{"jsonrpc":"2.0","id":1,"method":"eth_blockNumber"}'`)
console.log(`         cast block-number --rpc-url ${url}      (Ctrl-C stops the demo)`)
await stop(await proxy.exited)
