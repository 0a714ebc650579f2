import { startScriptedUpstream } from './upstream.ts'

/** A pass-through in front of a real node that counts the calls it forwards, by method. */
export type CountingForwarder = {
  url: string
  /** Calls forwarded for `method` (with exactly `params`, when given; batches counted per call). */
  count(method: string, params?: unknown[]): number
  total(): number
  /** The size of each HTTP request forwarded that carried a call of `method`, oldest first (a single call: 1). */
  requestSizes(method: string): number[]
  /** Every call forwarded since the last reset, as `method params` lines, oldest first. */
  log(): string[]
  reset(): void
  stop(): Promise<void>
  [Symbol.asyncDispose](): Promise<void>
}

/** A scripted upstream on port 0 that relays every body to `target` and counts its calls from the hit log. */
export function startCountingForwarder(target: string): CountingForwarder {
  const server = startScriptedUpstream(async (body) => {
    const answer = await fetch(target, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify(body),
    })
    return new Response(await answer.text(), { status: answer.status, headers: { 'content-type': 'application/json' } })
  })
  const calls = () => server.hits.flatMap((hit) => (Array.isArray(hit.body) ? hit.body : [hit.body]))
  return {
    url: server.url.replace(/\/$/, ''),
    count: (method, params) =>
      calls().filter(
        (call) =>
          call.method === method &&
          (params === undefined || JSON.stringify(call.params ?? []) === JSON.stringify(params)),
      ).length,
    total: () => calls().length,
    requestSizes: (method) =>
      server.hits.flatMap((hit) => {
        const calls = [hit.body].flat()
        return calls.some((call) => call?.method === method) ? [calls.length] : []
      }),
    log: () => calls().map((call) => `${call.method} ${JSON.stringify(call.params ?? null)}`),
    reset: () => {
      server.hits.length = 0
    },
    stop: () => server.stop(),
    [Symbol.asyncDispose]: () => server.stop(),
  }
}
