import { describe, expect, test } from 'bun:test'
import { createHeadTracker } from '../../src/chain/head-tracker.ts'
import type { Outcome, RpcCall } from '../../src/rpc/types.ts'

type Node = {
  head: number
  finalized: number
  hashes: Map<number, string>
  finalizedError?: { code: number; message: string }
  down?: boolean
}

/** A node the tracker asks through `send`; `gate` holds answers back when set. */
function scripted(node: Node) {
  const asked: string[] = []
  let gate: Promise<void> | undefined
  const send = async (call: RpcCall): Promise<Outcome> => {
    asked.push(`${call.method} ${JSON.stringify(call.params)}`)
    if (gate !== undefined) await gate
    if (node.down) return { error: { code: -32002, message: 'All 1 upstream attempts failed' }, unavailable: true }
    if (call.method === 'eth_blockNumber') return { resultJson: JSON.stringify(`0x${node.head.toString(16)}`) }
    const [tag] = call.params as [string]
    if (tag === 'finalized') {
      if (node.finalizedError !== undefined) return { error: node.finalizedError }
      return {
        resultJson: JSON.stringify({
          number: `0x${node.finalized.toString(16)}`,
          hash: node.hashes.get(node.finalized),
        }),
      }
    }
    const number = Number.parseInt(tag, 16)
    const hash = node.hashes.get(number)
    return { resultJson: hash === undefined ? 'null' : JSON.stringify({ number: tag, hash }) }
  }
  return {
    send,
    asked,
    hold() {
      let open!: () => void
      gate = new Promise((resolve) => (open = resolve))
      return () => {
        gate = undefined
        open()
      }
    },
  }
}

const chainOf = (head: number, prefix: string): Node => ({
  head,
  finalized: Math.max(0, head - 64),
  hashes: new Map(Array.from({ length: head + 1 }, (_, n) => [n, `${prefix}${n}`])),
})

describe('head tracker', () => {
  test('default', async () => {
    const node = scripted(chainOf(100, 'a'))
    const tracker = createHeadTracker({
      send: node.send,
      finalityDepth: 64,
      devChain: false,
      idleRefreshMs: 60_000,
      onReset: () => {},
    })
    expect(tracker.isFinal(0)).toBe(false)
    await tracker.refresh()
    expect([tracker.head, tracker.finalized, tracker.isFinal(36), tracker.isFinal(37), tracker.trusted]).toEqual([
      100,
      36,
      true,
      false,
      true,
    ])
  })

  test('behavior: "finalized block not found" does not switch the chain to head minus depth; "method not supported" does', async () => {
    const state = chainOf(1000, 'a')
    state.finalized = 700
    state.finalizedError = { code: -32000, message: 'finalized block not found' }
    const node = scripted(state)
    const tracker = createHeadTracker({
      send: node.send,
      finalityDepth: 64,
      devChain: false,
      idleRefreshMs: 60_000,
      onReset: () => {},
    })
    await tracker.refresh()
    expect(tracker.finalized).toBe(-1)
    state.finalizedError = undefined
    await tracker.refresh()
    expect(tracker.finalized).toBe(700)
    state.finalizedError = { code: -32602, message: 'invalid block tag' }
    state.head = 2000
    await tracker.refresh()
    await tracker.refresh()
    expect(tracker.finalized).toBe(1936)
  })

  test('behavior: a dev chain whose fingerprint block changed is reset, and its finality learned anew', async () => {
    const state = chainOf(100, 'a')
    const node = scripted(state)
    const resets: string[] = []
    const tracker = createHeadTracker({
      send: node.send,
      finalityDepth: 64,
      devChain: true,
      idleRefreshMs: 60_000,
      onReset: (why) => resets.push(why),
    })
    await tracker.refresh()
    await tracker.refresh()
    expect([tracker.finalized, tracker.trusted, resets]).toEqual([36, true, []])
    Object.assign(state, chainOf(10, 'b'))
    await tracker.refresh()
    expect(resets).toEqual(['block 36 is no longer a36'])
    expect(tracker.finalized).toBe(0)
  })

  test('behavior: a failure reported while a refresh is in flight is not cleared by that refresh', async () => {
    const node = scripted(chainOf(100, 'a'))
    const tracker = createHeadTracker({
      send: node.send,
      finalityDepth: 64,
      devChain: true,
      idleRefreshMs: 60_000,
      onReset: () => {},
    })
    await tracker.refresh()
    expect(tracker.trusted).toBe(true)
    const release = node.hold()
    const inFlight = tracker.refresh()
    tracker.suspect()
    release()
    await inFlight
    expect(tracker.trusted).toBe(false)
    await tracker.refresh()
    expect(tracker.trusted).toBe(true)
  })

  test('behavior: when no provider answers, nothing is learned and a suspected dev chain stays unverified', async () => {
    const state = chainOf(100, 'a')
    const node = scripted(state)
    const tracker = createHeadTracker({
      send: node.send,
      finalityDepth: 64,
      devChain: true,
      idleRefreshMs: 60_000,
      onReset: () => {},
    })
    await tracker.refresh()
    tracker.suspect()
    state.down = true
    await tracker.refresh()
    expect(tracker.trusted).toBe(false)
  })

  test("behavior: an upstream's own -32002 is an answer, not the proxy finding no provider: the head is still learned", async () => {
    const state = chainOf(100, 'a')
    state.finalizedError = { code: -32002, message: 'resource unavailable' }
    const tracker = createHeadTracker({
      send: scripted(state).send,
      finalityDepth: 64,
      devChain: false,
      idleRefreshMs: 60_000,
      onReset: () => {},
    })
    await tracker.refresh()
    expect([tracker.head, tracker.finalized]).toEqual([100, -1])
  })
})

describe('finality across providers', () => {
  /** Two providers: each answers the head and the finalized block as its own node says. */
  function two(a: Node, b: Node) {
    const one = scripted(a)
    const other = scripted(b)
    return {
      send: one.send,
      askSeveral: async (question: RpcCall) => [await one.send(question), await other.send(question)],
    }
  }

  test("behavior: one provider reporting finalized past the others' head cannot make near-head blocks final", async () => {
    const honest = chainOf(100, 'a')
    honest.finalized = 0x24
    const liar = chainOf(100, 'a')
    liar.finalized = 0x64
    const { send, askSeveral } = two(liar, honest)
    const tracker = createHeadTracker({
      send,
      askSeveral,
      finalityDepth: 64,
      devChain: false,
      idleRefreshMs: 60_000,
      onReset: () => {},
    })
    await tracker.refresh()
    expect([tracker.finalized, tracker.isFinal(0x24), tracker.isFinal(0x25), tracker.isFinal(0x61)]).toEqual([
      0x24,
      true,
      false,
      false,
    ])
  })

  test("behavior: finality never passes the slowest healthy provider's head", async () => {
    const ahead = chainOf(200, 'a')
    ahead.finalized = 150
    const behind = chainOf(120, 'a')
    behind.finalized = 150
    const tracker = createHeadTracker({
      ...two(ahead, behind),
      finalityDepth: 64,
      devChain: false,
      idleRefreshMs: 60_000,
      onReset: () => {},
    })
    await tracker.refresh()
    expect([tracker.head, tracker.finalized]).toEqual([200, 120])
  })

  test('behavior: one of the two not answering confirms nothing', async () => {
    const up = chainOf(100, 'a')
    const down = { ...chainOf(100, 'a'), down: true }
    const tracker = createHeadTracker({
      ...two(up, down),
      finalityDepth: 64,
      devChain: false,
      idleRefreshMs: 60_000,
      onReset: () => {},
    })
    await tracker.refresh()
    expect([tracker.head, tracker.finalized]).toEqual([100, -1])
  })
})
