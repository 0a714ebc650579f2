import { mkdtempSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { loadServerOptions } from '../../src/config/load.ts'
import type { ServerOptions } from '../../src/config/schema.ts'
import { type ServerHandle, startServer } from '../../src/server.ts'
import { log } from '../../src/util/log.ts'
import { readLine } from './lines.ts'

log.level = 0

/** An in-process proxy on port 0 with defaults plus `overrides`. */
export type TestProxy = ServerHandle & {
  /** POST a raw body; returns status, headers and parsed JSON (or null when empty). */
  post(
    body: string | object,
    headers?: Record<string, string>,
  ): Promise<{ status: number; headers: Headers; json: any }>
  call(method: string, params?: unknown, id?: unknown): Promise<any>
  stop(): Promise<void>
  /** `await using proxy = await startProxy(...)` stops it when the scope ends. */
  [Symbol.asyncDispose](): Promise<void>
}

/** The default options, as the CLI would resolve them with no flags and no environment. */
export function defaultOptions(overrides: Partial<ServerOptions> = {}): ServerOptions {
  const cacheDir = mkdtempSync(join(tmpdir(), 'edb-rpc-proxy-cache-'))
  return { ...loadServerOptions({ flags: {}, env: {} }), port: 0, cacheDir, ...overrides }
}

/** Start the proxy in this process. */
export async function startProxy(overrides: Partial<ServerOptions> = {}): Promise<TestProxy> {
  const server = await startServer(defaultOptions(overrides))
  const post: TestProxy['post'] = async (body, headers = {}) => {
    const response = await fetch(server.url, {
      method: 'POST',
      headers: { 'content-type': 'application/json', ...headers },
      body: typeof body === 'string' ? body : JSON.stringify(body),
    })
    const text = await response.text()
    return { status: response.status, headers: response.headers, json: text === '' ? null : JSON.parse(text) }
  }
  return {
    ...server,
    post,
    call: async (method, params = [], id = 1) => (await post({ jsonrpc: '2.0', id, method, params })).json,
    async stop() {
      server.shutdown('SIGTERM')
      await server.exitCode
    },
    async [Symbol.asyncDispose]() {
      server.shutdown('SIGTERM')
      await server.exitCode
    },
  }
}

const ROOT = join(import.meta.dir, '../..')

/** A proxy (or any CLI invocation) running as its own process; `output` collects stdout and stderr. */
export type ProxyProcess = {
  process: ReturnType<typeof Bun.spawn>
  url?: string
  output: string[]
  exited: Promise<number>
}

/** The CLI's arguments for a proxy on a free port in front of `rpcUrls` (`""`: cache-only), then `flags`: one list every test shares. */
export function serverArgs(rpcUrls: string, ...flags: string[]): string[] {
  return ['server', '--port', '0', '--rpc-urls', rpcUrls, ...flags]
}

/** The command that runs the CLI from source with Bun. */
export const SOURCE_COMMAND = [process.execPath, join(ROOT, 'src/main.ts')]

/** Spawn the CLI with `args`; with `waitForListening`, resolve once it prints its URL. */
export async function spawnProxy(
  command: string[],
  args: string[],
  { waitForListening = true, env = {} }: { waitForListening?: boolean; env?: Record<string, string> } = {},
): Promise<ProxyProcess> {
  const child = Bun.spawn([...command, ...args], {
    stdout: 'pipe',
    stderr: 'pipe',
    env: { ...process.env, ...env },
  })
  const output: string[] = []
  void (async () => {
    const decoder = new TextDecoder()
    for await (const chunk of child.stderr as ReadableStream<Uint8Array>)
      output.push(decoder.decode(chunk, { stream: true }))
  })()
  const result: ProxyProcess = { process: child, output, exited: child.exited }
  if (waitForListening) {
    try {
      const match = await readLine(
        child.stdout as ReadableStream<Uint8Array>,
        /listening on (http:\/\/\S+)/,
        15_000,
        output,
      )
      result.url = match[1]
    } catch (error) {
      // A proxy that never said it listens is not left running behind a failed test.
      child.kill('SIGKILL')
      throw error
    }
  }
  return result
}
