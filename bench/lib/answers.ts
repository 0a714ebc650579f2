import { post } from './chain.ts'

/** The proxy's answer sizes in bytes, and the bodies whose answer differs from the node's own. */
export type AnswerCheck = { sizes: number[]; mismatches: string[] }

/** Ask the proxy and the node each body; the proxy must return the node's result with the caller's id. */
export async function checkAnswers(proxyUrl: string, nodeUrl: string, bodies: string[]): Promise<AnswerCheck> {
  const sizes: number[] = []
  const mismatches: string[] = []
  for (const body of bodies) {
    const [viaProxy, direct] = await Promise.all([post(proxyUrl, body), post(nodeUrl, body)])
    sizes.push(Buffer.byteLength(viaProxy.text))
    if (direct.json.result === undefined || essence(viaProxy.json) !== essence(direct.json)) mismatches.push(body)
  }
  return { sizes, mismatches }
}

/** id and result, in a fixed order: the envelope's key order is not part of the answer. */
function essence(json: { id?: unknown; result?: unknown; error?: unknown }): string {
  return JSON.stringify([json.id, json.result, json.error])
}
