import { describe, expect, test } from 'bun:test'
import { createSocketCounters } from '../../src/metrics/socket-counters.ts'
import type { PlatformSocket, SocketHandlers } from '../../src/platform/index.ts'
import type { CallContext, StreamClient } from '../../src/rpc/context.ts'
import type { RpcCall } from '../../src/rpc/types.ts'
import { createParseBudget } from '../../src/transport/parse-budget.ts'
import { createBodyServer } from '../../src/transport/serve-body.ts'
import { createWebSocketAcceptor } from '../../src/transport/ws/acceptor.ts'
import { createConnection } from '../../src/transport/ws/connection.ts'
import { createScriptedPipeline, type ScriptedAnswer } from './scripted-pipeline.ts'

/** The platform's socket interface, recording what the connection did to it. */
function fakeSocket() {
  const socket = {
    sent: [] as string[],
    closed: undefined as { code: number; reason: string } | undefined,
    /** Bytes the "runtime" reports as not yet written. */
    buffered: 0,
    send(text: string) {
      socket.sent.push(text)
    },
    close(code: number, reason: string) {
      socket.closed = { code, reason }
    },
    bufferedAmount: () => socket.buffered,
  }
  return socket satisfies PlatformSocket
}

type Script = (call: RpcCall, context: CallContext) => ScriptedAnswer

/** One connection over a fake socket, its frames served by a scripted pipeline: no network at all. */
function connect(script: Script, { maxFrameBytes = 1024, sendQueueBytes = 1 << 20 } = {}) {
  const counters = createSocketCounters()
  const released: StreamClient[] = []
  const unexpected: unknown[] = []
  const bodies = createBodyServer({
    pipeline: createScriptedPipeline(script),
    budget: createParseBudget(),
    onUnexpected: (error) => void unexpected.push(error),
  })
  const live = new Set<() => void>()
  const options = {
    bodies,
    hub: { release: (client: StreamClient) => void released.push(client) },
    counters,
    maxFrameBytes,
    maxSubscriptions: 4,
    sendQueueBytes,
    live,
  }
  const handlers = createConnection(options, { client: 'ip:127.0.0.1', loopback: true })
  const socket = fakeSocket()
  handlers.open(socket)
  return { handlers, socket, counters, released, unexpected, live }
}

/** Send a frame and wait until the socket has `count` more texts (or was closed). */
async function exchange(
  connection: { handlers: SocketHandlers; socket: ReturnType<typeof fakeSocket> },
  frame: unknown,
  count = 1,
): Promise<unknown[]> {
  const before = connection.socket.sent.length
  connection.handlers.message(typeof frame === 'string' ? frame : JSON.stringify(frame))
  for (
    let turn = 0;
    turn < 100 && connection.socket.sent.length < before + count && connection.socket.closed === undefined;
    turn++
  )
    await Promise.resolve()
  return connection.socket.sent.slice(before).map((text) => JSON.parse(text))
}

const call = (method: string, id: unknown = 1, params: unknown[] = []) => ({ jsonrpc: '2.0', id, method, params })
const echo: Script = (call) => ({ result: call.method, later: true })

/** `eth_subscribe` makes a subscription for the caller's stream client and says so in the reply (as the hub and pipeline do). */
function subscribing(
  id: string,
  { eventBeforeReply = true, replyAfter }: { eventBeforeReply?: boolean; replyAfter?: Promise<unknown> } = {},
): Script {
  return (call, context) => {
    if (call.method !== 'eth_subscribe') return { result: `mentions ${id}` }
    const client = context.stream?.client as StreamClient
    client.subscribed?.(id)
    if (eventBeforeReply) client.deliver(id, '{"number":"0x1"}')
    return { result: id, subscription: id, later: replyAfter ?? true }
  }
}
const event = (id: string, number: string) => ({
  jsonrpc: '2.0',
  method: 'eth_subscription',
  params: { subscription: id, result: { number } },
})

describe('the WebSocket connection', () => {
  test('default', async () => {
    const connection = connect(echo)
    expect(await exchange(connection, call('eth_chainId', 7))).toEqual([
      { jsonrpc: '2.0', id: 7, result: 'eth_chainId' },
    ])
    expect([connection.counters.connections, connection.counters.accepted, connection.socket.closed]).toEqual([
      1,
      1,
      undefined,
    ])
  })

  test('behavior: a batch is one frame answered by one frame, in request order, notifications left out', async () => {
    const connection = connect(echo)
    const replies = await exchange(connection, [
      call('eth_chainId', 'a'),
      { jsonrpc: '2.0', method: 'eth_blockNumber' },
      call('net_version', 'b'),
    ])
    expect(replies).toEqual([
      [
        { jsonrpc: '2.0', id: 'a', result: 'eth_chainId' },
        { jsonrpc: '2.0', id: 'b', result: 'net_version' },
      ],
    ])
  })

  test('behavior: invalid JSON is answered -32700, and the connection stays open', async () => {
    const connection = connect(echo)
    expect(await exchange(connection, '{"jsonrpc":')).toEqual([
      { jsonrpc: '2.0', id: null, error: { code: -32700, message: 'Parse error: the body is not valid JSON' } },
    ])
    expect(await exchange(connection, call('eth_chainId'))).toEqual([{ jsonrpc: '2.0', id: 1, result: 'eth_chainId' }])
  })

  test("behavior: a subscription's events wait until the reply that created it (reply.subscriptions) is sent, then flow at once", async () => {
    let stream: StreamClient | undefined
    const subscribe = subscribing('0xabc')
    const connection = connect((call, context) => {
      stream = context.stream?.client
      return subscribe(call, context)
    })
    expect(await exchange(connection, call('eth_subscribe', 1, ['newHeads']), 2)).toEqual([
      { jsonrpc: '2.0', id: 1, result: '0xabc' },
      event('0xabc', '0x1'),
    ])
    stream?.deliver('0xabc', '{"number":"0x2"}')
    expect(connection.socket.sent.slice(2).map((text) => JSON.parse(text))).toEqual([event('0xabc', '0x2')])
    connection.handlers.close(1000, '')
    expect(connection.released).toEqual([stream as StreamClient])
    expect(connection.counters.connections).toBe(0)
  })

  test("behavior: another reply that merely mentions a held subscription's id does not release its events", async () => {
    let replyNow = () => {}
    const replyAfter = new Promise<void>((resolve) => {
      replyNow = resolve
    })
    const connection = connect(subscribing('0xabc', { replyAfter }))
    connection.handlers.message(JSON.stringify(call('eth_subscribe', 1, ['newHeads'])))
    // The subscription exists and has an event waiting; an unrelated reply whose text contains its id goes out alone.
    expect(await exchange(connection, call('eth_mention', 2))).toEqual([
      { jsonrpc: '2.0', id: 2, result: 'mentions 0xabc' },
    ])
    replyNow()
    for (let turn = 0; turn < 100 && connection.socket.sent.length < 3; turn++) await Promise.resolve()
    expect(connection.socket.sent.slice(1).map((text) => JSON.parse(text))).toEqual([
      { jsonrpc: '2.0', id: 1, result: '0xabc' },
      event('0xabc', '0x1'),
    ])
  })

  test('behavior: a client that reads too slowly is closed with 1008, counted, and its subscriptions released', async () => {
    const connection = connect(echo, { sendQueueBytes: 100 })
    connection.socket.buffered = 101
    await exchange(connection, call('eth_chainId'))
    expect(connection.socket.closed).toEqual({
      code: 1008,
      reason: 'send queue over 100 bytes: the client reads too slowly',
    })
    expect([connection.counters.slowClosed, connection.counters.connections, connection.released.length]).toEqual([
      1, 0, 1,
    ])
    connection.handlers.message(JSON.stringify(call('eth_chainId', 2)))
    expect(connection.socket.sent.length).toBe(1)
  })

  test('behavior: a frame over the body limit closes the connection with 1009, unanswered', async () => {
    const connection = connect(echo, { maxFrameBytes: 64 })
    expect(await exchange(connection, call('eth_call', 1, ['x'.repeat(100)]))).toEqual([])
    expect(connection.socket.closed).toEqual({ code: 1009, reason: 'frame over 64 bytes' })
    expect([connection.counters.framesRefused, connection.counters.connections]).toEqual([1, 0])
  })

  test('behavior: an exception in the pipeline is -32603 with fixed text; the details go to onUnexpected only', async () => {
    const connection = connect(() => ({ throws: new Error('secret detail'), later: true }))
    expect(await exchange(connection, call('eth_chainId'))).toEqual([
      { jsonrpc: '2.0', id: null, error: { code: -32603, message: 'Internal error' } },
    ])
    expect(connection.unexpected.map((error) => (error as Error).message)).toEqual(['secret detail'])
  })

  test('behavior: frames that arrive before the runtime opens the socket are answered once it does', async () => {
    const counters = createSocketCounters()
    const bodies = createBodyServer({
      pipeline: createScriptedPipeline(echo),
      budget: createParseBudget(),
      onUnexpected: () => {},
    })
    const handlers = createConnection(
      {
        bodies,
        hub: { release() {} },
        counters,
        maxFrameBytes: 1024,
        maxSubscriptions: 1,
        sendQueueBytes: 1 << 20,
        live: new Set(),
      },
      {},
    )
    handlers.message(JSON.stringify(call('eth_chainId', 'early')))
    const socket = fakeSocket()
    handlers.open(socket)
    for (let turn = 0; turn < 100 && socket.sent.length === 0; turn++) await Promise.resolve()
    expect(socket.sent.map((text) => JSON.parse(text))).toEqual([
      { jsonrpc: '2.0', id: 'early', result: 'eth_chainId' },
    ])
  })
})

describe('the WebSocket acceptor', () => {
  const acceptor = (access = {}) =>
    createWebSocketAcceptor({
      bodies: createBodyServer({
        pipeline: createScriptedPipeline(echo),
        budget: createParseBudget(),
        onUnexpected: () => {},
      }),
      access: { refusalOf: () => undefined, contextOf: () => ({}), ...access },
      hub: { release() {} },
      counters: createSocketCounters(),
      maxFrameBytes: 1024,
      maxConnections: 1,
      maxSubscriptions: 1,
      sendQueueBytes: 1 << 20,
    })
  const upgrade = (url = 'http://127.0.0.1/') => new Request(url, { headers: { upgrade: 'websocket' } })

  test('default', async () => {
    const accepted = acceptor().accept(upgrade(), () => '127.0.0.1')
    expect(accepted instanceof Response).toBe(false)
  })

  test('behavior: past the connection limit an upgrade is refused with 503; closeAll says going away (1001)', async () => {
    const sockets = acceptor()
    const first = sockets.accept(upgrade(), () => undefined) as SocketHandlers
    const socket = fakeSocket()
    first.open(socket)
    const refused = sockets.accept(upgrade(), () => undefined) as Response
    expect([refused.status, ((await refused.json()) as { error: { message: string } }).error.message]).toEqual([
      503,
      'too many WebSocket connections: the limit is 1',
    ])
    expect([sockets.counters.accepted, sockets.counters.refused]).toEqual([1, 1])
    sockets.closeAll()
    expect([socket.closed, sockets.counters.connections]).toEqual([
      { code: 1001, reason: 'the proxy is shutting down' },
      0,
    ])
  })

  test("behavior: a browser's token may come as a query parameter, seen by the access chain as Authorization", async () => {
    const seen: (string | null)[] = []
    const sockets = acceptor({
      refusalOf: ({ headers }: { headers: Headers }) => {
        seen.push(headers.get('authorization'))
        return { status: 401, message: 'Unauthorized' }
      },
    })
    const refused = sockets.accept(upgrade('http://127.0.0.1/?token=abc'), () => undefined) as Response
    expect([refused.status, seen]).toEqual([401, ['Bearer abc']])
  })
})
