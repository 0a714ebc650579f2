import { afterEach, describe, expect, test } from 'bun:test'
import { SOURCE_COMMAND, serverArgs, spawnProxy } from '../helpers/proxy.ts'
import { startScriptedUpstream } from '../helpers/upstream.ts'
import { waitFor } from '../helpers/wait.ts'

const cleanup: (() => Promise<void>)[] = []
afterEach(async () => {
  while (cleanup.length > 0) await cleanup.pop()!()
})

describe('a client that hangs up', () => {
  test('behavior: hanging up before the answer is not logged as an error, and the proxy keeps serving', async () => {
    let release!: () => void
    const gate = new Promise<void>((resolve) => (release = resolve))
    let answered = 0
    const slow = startScriptedUpstream(async (call) => {
      if (call.method !== 'eth_gasPrice') return '0x1'
      await gate
      answered++
      return '0x2'
    })
    cleanup.push(() => slow.stop())
    const proxy = await spawnProxy(SOURCE_COMMAND, serverArgs(slow.url, '--log-level', 'debug'))
    cleanup.push(async () => {
      proxy.process.kill('SIGKILL')
      await proxy.exited
    })
    const controller = new AbortController()
    const abandoned = fetch(proxy.url!, {
      method: 'POST',
      body: '{"jsonrpc":"2.0","id":1,"method":"eth_gasPrice"}',
      signal: controller.signal,
    }).catch(() => 'aborted')
    await waitFor(() => slow.hits.some((hit) => hit.body?.method === 'eth_gasPrice'), 'the call to reach the upstream')
    controller.abort()
    expect(await abandoned).toBe('aborted')
    release()
    await waitFor(() => answered === 1, 'the upstream to answer')
    const alive = await fetch(proxy.url!, { method: 'POST', body: '{"jsonrpc":"2.0","id":2,"method":"eth_gasPrice"}' })
    expect(await alive.json()).toEqual({ jsonrpc: '2.0', id: 2, result: '0x2' })
    proxy.process.kill('SIGTERM')
    expect(await proxy.exited).toBe(0)
    const output = proxy.output.join('')
    expect(output).not.toMatch(/ error |"level":"error"|unexpected/)
  })

  test('behavior: hanging up halfway through sending the body is not logged as an error either', async () => {
    const node = startScriptedUpstream(() => '0x1')
    cleanup.push(() => node.stop())
    const proxy = await spawnProxy(SOURCE_COMMAND, serverArgs(node.url, '--log-level', 'debug'))
    cleanup.push(async () => {
      proxy.process.kill('SIGKILL')
      await proxy.exited
    })
    for (let round = 0; round < 3; round++) {
      const controller = new AbortController()
      let pulled = false
      const body = new ReadableStream<Uint8Array>({
        async pull(stream) {
          if (pulled) return new Promise(() => {})
          pulled = true
          stream.enqueue(new TextEncoder().encode('{"jsonrpc":"2.0","id":1,"method":"eth_'))
        },
      })
      const abandoned = fetch(proxy.url!, {
        method: 'POST',
        body,
        signal: controller.signal,
        duplex: 'half',
      } as RequestInit).catch(() => 'aborted')
      // The route counts a request as active before it reads the body: this one, and the one asking.
      const active = async () =>
        (await (
          await fetch(proxy.url!, { method: 'POST', body: '{"jsonrpc":"2.0","id":0,"method":"edb_request_metrics"}' })
        ).json()) as any
      await waitFor(
        async () => pulled && (await active()).result.active_requests >= 2,
        'the proxy to be reading the body',
      )
      controller.abort()
      expect(await abandoned).toBe('aborted')
    }
    const alive = await fetch(proxy.url!, { method: 'POST', body: '{"jsonrpc":"2.0","id":2,"method":"eth_chainId"}' })
    expect(((await alive.json()) as any).result).toBe('0x1')
    proxy.process.kill('SIGTERM')
    expect(await proxy.exited).toBe(0)
    expect(proxy.output.join('')).not.toMatch(/ error |"level":"error"|unexpected/)
  })
})
