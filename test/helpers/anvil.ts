import { join } from 'node:path'
import { readLine } from './lines.ts'

const ANVIL = join(import.meta.dir, '../../node_modules/.bin/anvil')

/** A real anvil node on a free loopback port. */
/** `await using anvil = await startAnvil()` stops it when the scope ends. */
export type Anvil = { url: string; port: number; stop(): Promise<void>; [Symbol.asyncDispose](): Promise<void> }

/** Start anvil on port 0 (or the `--port` in `args`) and wait for its "Listening on" line. */
export async function startAnvil(args: string[] = []): Promise<Anvil> {
  const portArgs = args.includes('--port') ? [] : ['--port', '0']
  const child = Bun.spawn([ANVIL, '--host', '127.0.0.1', ...portArgs, ...args], { stdout: 'pipe', stderr: 'pipe' })
  const line = await readLine(child.stdout, /Listening on 127\.0\.0\.1:(\d+)/, 20_000)
  const port = Number(line[1])
  return {
    url: `http://127.0.0.1:${port}`,
    port,
    async stop() {
      child.kill()
      await child.exited
    },
    async [Symbol.asyncDispose]() {
      child.kill()
      await child.exited
    },
  }
}

/** One JSON-RPC call straight to a node, returning the whole response object. */
export async function rpc(url: string, method: string, params: unknown[] = [], id: unknown = 1): Promise<any> {
  const response = await fetch(url, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ jsonrpc: '2.0', id, method, params }),
  })
  return response.json()
}
