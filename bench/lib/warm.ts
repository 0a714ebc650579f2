import { post } from './chain.ts'

/** How many bodies answered `x-cache: HIT` on a repeat before the deadline. */
export type WarmResult = { hits: number; total: number; missing: string[] }

const POLL_INTERVAL_MS = 25

/**
 * Send every body once, then repeat each until the proxy answers it with `x-cache: HIT`
 * (SPEC §9), all within `timeoutMs` overall. Bodies never seen as hits are listed in `missing`.
 */
export async function warmCache(url: string, bodies: string[], timeoutMs: number): Promise<WarmResult> {
  const unique = [...new Set(bodies)]
  for (const body of unique) await post(url, body)
  const deadline = Date.now() + timeoutMs
  const missing: string[] = []
  for (const body of unique) {
    if (!(await waitForHit(url, body, deadline))) missing.push(body)
  }
  return { hits: unique.length - missing.length, total: unique.length, missing }
}

async function waitForHit(url: string, body: string, deadline: number): Promise<boolean> {
  do {
    const { headers } = await post(url, body)
    if (headers.get('x-cache')?.toUpperCase() === 'HIT') return true
    await Bun.sleep(POLL_INTERVAL_MS)
  } while (Date.now() < deadline)
  return false
}
