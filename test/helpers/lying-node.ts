import { startScriptedUpstream } from './upstream.ts'

/** What a lying node alters in the answers it passes on from an honest one. */
export type Lie = 'storage' | 'balance' | 'proof-node' | 'header-field' | 'none'

/** A forwarder in front of a real node that alters one kind of answer, and counts what it was asked. */
export type LyingNode = { url: string; lied: () => number; asked: (method: string) => number; stop(): Promise<void> }

/**
 * Start a forwarder in front of `target` that passes everything on, but alters one kind of answer:
 * a storage value (`eth_getStorageAt`, and the slot values in `eth_getProof`), a balance
 * (`eth_getBalance`, and `balance` in `eth_getProof`), one node of every account proof, or one
 * field of every block header (its hash left as the honest one). With `proofs: false` it does
 * not serve `eth_getProof` at all (`-32601`), as many hosted plans; `proofDelayMs` makes its
 * proofs slow.
 */
export function startLyingNode(
  target: string,
  lie: Lie,
  { proofs = true, proofDelayMs = 0 }: { proofs?: boolean; proofDelayMs?: number } = {},
): LyingNode {
  let lied = 0
  const methods = new Map<string, number>()
  const server = startScriptedUpstream(async (body) => {
    const calls: any[] = Array.isArray(body) ? body : [body]
    for (const call of calls) methods.set(call?.method, (methods.get(call?.method) ?? 0) + 1)
    const answers = await Promise.all(calls.map((call) => answer(call)))
    return Response.json(Array.isArray(body) ? answers : answers[0])
  })
  const answer = async (call: any): Promise<unknown> => {
    if (call?.method === 'eth_getProof' && proofDelayMs > 0) await Bun.sleep(proofDelayMs)
    if (call?.method === 'eth_getProof' && !proofs)
      return {
        jsonrpc: '2.0',
        id: call.id,
        error: { code: -32601, message: 'the method eth_getProof does not exist/is not available' },
      }
    const response = await fetch(target, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify(call),
    })
    const honest: any = await response.json()
    if (honest?.result === undefined || honest.result === null) return honest
    const altered = alter(call.method, honest.result)
    if (altered !== undefined) lied += 1
    return altered === undefined ? honest : { ...honest, result: altered }
  }
  const alter = (method: string, result: any): unknown => {
    if (lie === 'storage' && method === 'eth_getStorageAt') return bump(result)
    if (lie === 'storage' && method === 'eth_getProof' && result.storageProof?.length > 0)
      return {
        ...result,
        storageProof: result.storageProof.map((entry: any) => ({ ...entry, value: bump(entry.value) })),
      }
    if (lie === 'balance' && method === 'eth_getBalance') return bump(result)
    if (lie === 'balance' && method === 'eth_getProof') return { ...result, balance: bump(result.balance) }
    if (lie === 'proof-node' && method === 'eth_getProof') {
      const nodes: string[] = result.accountProof
      const last = nodes.at(-1) as string
      return {
        ...result,
        accountProof: [...nodes.slice(0, -1), `${last.slice(0, -2)}${last.endsWith('00') ? '01' : '00'}`],
      }
    }
    if (lie === 'header-field' && (method === 'eth_getBlockByNumber' || method === 'eth_getBlockByHash'))
      return { ...result, stateRoot: `0x${'ab'.repeat(32)}` }
    return undefined
  }
  return {
    url: server.url,
    lied: () => lied,
    asked: (method) => methods.get(method) ?? 0,
    stop: server.stop,
  }
}

/** A quantity or 32-byte word plus one, written as it was (a word stays 32 bytes). */
function bump(value: string): string {
  const next = (BigInt(value) + 1n).toString(16)
  return value.length === 66 ? `0x${next.padStart(64, '0')}` : `0x${next}`
}
