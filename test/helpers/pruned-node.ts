import { startScriptedUpstream } from './upstream.ts'

/** Calls a pruned forwarder received: state reads below its edge (client reads and probes apart), and all by method. */
export type PrunedCounts = {
  belowEdge: number
  probesBelowEdge: number
  /** Probes that arrived while `probesWaitFor` held them. */
  probesHeld: number
  methods: Map<string, number>
}

export type PrunedNode = { url: string; counts: PrunedCounts; stop(): Promise<void> }

/** Methods that read state at the block of their last parameter. */
const STATE_READS = new Set([
  'eth_getBalance',
  'eth_getTransactionCount',
  'eth_getCode',
  'eth_getStorageAt',
  'eth_call',
])
const ZERO_ADDRESS = '0x0000000000000000000000000000000000000000'

/**
 * A forwarder in front of `target` that acts as a full node keeping state from block `edge` up: a
 * state read below it gets geth's exact answer, `-32000 missing trie node <hash> (path ) <nil>`.
 * With `capabilities`, it describes itself through `eth_capabilities` (execution-apis' shape);
 * without, that method is unknown to it (`-32601`), as on most nodes today.
 */
export function startPrunedNode(
  target: string,
  edge: number,
  { capabilities = false, probesWaitFor }: { capabilities?: boolean; probesWaitFor?: Promise<void> } = {},
): PrunedNode {
  const counts: PrunedCounts = { belowEdge: 0, probesBelowEdge: 0, probesHeld: 0, methods: new Map() }
  const server = startScriptedUpstream(async (call) => {
    counts.methods.set(call?.method, (counts.methods.get(call?.method) ?? 0) + 1)
    // A probe (a balance of the zero address) held until the test says: what clients see meanwhile.
    if (probesWaitFor !== undefined && call?.method === 'eth_getBalance' && call.params?.[0] === ZERO_ADDRESS) {
      counts.probesHeld += 1
      await probesWaitFor
    }
    if (call?.method === 'eth_capabilities') {
      if (!capabilities)
        return Response.json({
          jsonrpc: '2.0',
          id: call.id,
          error: { code: -32601, message: 'the method eth_capabilities does not exist/is not available' },
        })
      const head = (await (
        await forward(target, { jsonrpc: '2.0', id: 1, method: 'eth_blockNumber', params: [] })
      ).json()) as { result: string }
      const held = { disabled: false, oldestBlock: `0x${edge.toString(16)}` }
      return {
        head: { number: head.result, hash: `0x${'11'.repeat(32)}` },
        state: held,
        stateproofs: held,
        tx: { disabled: false, oldestBlock: '0x0' },
        logs: { disabled: false, oldestBlock: '0x0' },
        receipts: { disabled: false, oldestBlock: '0x0' },
        blocks: { disabled: false, oldestBlock: '0x0' },
      }
    }
    if (STATE_READS.has(call?.method)) {
      const block = Number.parseInt(String(call.params?.at(-1)), 16)
      if (Number.isFinite(block) && block < edge) {
        if (call.params?.[0] === ZERO_ADDRESS) counts.probesBelowEdge += 1
        else counts.belowEdge += 1
        return Response.json({
          jsonrpc: '2.0',
          id: call.id,
          error: {
            code: -32000,
            message: 'missing trie node 5f1b6a0f2e4c1d8a7b3e9c0d4f2a1b6c8e7d9f0a3b5c2e4d6f8a0b1c3d5e7f9a (path ) <nil>',
          },
        })
      }
    }
    return new Response(await (await forward(target, call)).text(), { headers: { 'content-type': 'application/json' } })
  })
  return { url: server.url, counts, stop: server.stop }
}

function forward(target: string, body: unknown): Promise<Response> {
  return fetch(target, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) })
}
