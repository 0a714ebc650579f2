import { startScriptedUpstream } from './upstream.ts'

/** What a rate-limited forwarder saw: calls passed on, calls refused (with when, after its first call), methods passed. */
export type RateLimitedCounts = { calls: number; refused: number; refusedAtMs: number[]; methods: Map<string, number> }

/** A forwarder in front of `target` that allows `limit` calls in any one-second window (HTTP 429 beyond). */
export type RateLimitedForwarder = { url: string; counts: RateLimitedCounts; stop(): Promise<void> }

/**
 * Start a forwarder that lets at most `limit` calls a second through to `target`, the calls of a
 * batch counted one by one, and answers HTTP 429 (with `Retry-After`, unless `retryAfter` is
 * undefined) beyond: the hosted providers' behaviour SPEC §6 budgets are for.
 */
export function startRateLimited(
  target: string,
  limit: number,
  { retryAfter = '1' as string | undefined } = {},
): RateLimitedForwarder {
  const accepted: number[] = []
  const counts: RateLimitedCounts = { calls: 0, refused: 0, refusedAtMs: [], methods: new Map() }
  let firstAt: number | undefined
  const server = startScriptedUpstream(async (body) => {
    const calls = Array.isArray(body) ? body.length : 1
    const at = Date.now()
    firstAt ??= at
    while (accepted.length > 0 && (accepted[0] as number) <= at - 1_000) accepted.shift()
    if (accepted.length + calls > limit) {
      counts.refused += calls
      counts.refusedAtMs.push(at - firstAt)
      const headers: Record<string, string> = retryAfter === undefined ? {} : { 'retry-after': retryAfter }
      return new Response('too many requests', { status: 429, headers })
    }
    for (let index = 0; index < calls; index++) accepted.push(at)
    counts.calls += calls
    for (const call of Array.isArray(body) ? body : [body])
      counts.methods.set(call?.method, (counts.methods.get(call?.method) ?? 0) + 1)
    const answer = await fetch(target, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify(body),
    })
    return new Response(await answer.text(), { headers: { 'content-type': 'application/json' } })
  })
  return { url: server.url, counts, stop: server.stop }
}
