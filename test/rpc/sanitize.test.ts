import { afterEach, describe, expect, test } from 'bun:test'
import { fetchSnapshot } from '../../src/monitor/client.ts'
import { sanitizeDeep, sanitizeText } from '../../src/monitor/sanitize.ts'
import { type ScriptedUpstream, startScriptedUpstream } from '../helpers/upstream.ts'

const cleanup: ScriptedUpstream[] = []
afterEach(async () => {
  while (cleanup.length > 0) await cleanup.pop()!.stop()
})

const ESCAPES = '\u001b]2;pwned\u0007\u001b[31mred\u009b2J\u202eevil\u0000'

describe('monitor sanitizing', () => {
  test('default', () => {
    expect(sanitizeText('eth_getBalance')).toBe('eth_getBalance')
  })

  test('behavior: controls, DEL, C1 and bidi overrides become U+FFFD; other text stays', () => {
    expect(sanitizeText(ESCAPES)).toBe('\ufffd]2;pwned\ufffd\ufffd[31mred\ufffd2J\ufffdevil\ufffd')
    expect(sanitizeText('héllo — 日本 🚀')).toBe('héllo — 日本 🚀')
  })

  test('behavior: every string of a JSON value is made safe, object keys included', () => {
    expect(sanitizeDeep({ [`m${ESCAPES}`]: { url: `x\u001b`, n: 3, list: ['\u0007', null, true] } })).toEqual({
      [`m${sanitizeText(ESCAPES)}`]: { url: 'x\ufffd', n: 3, list: ['\ufffd', null, true] },
    })
  })

  test('behavior: what a hostile proxy answers reaches the dashboard without a control character', async () => {
    const hostile = startScriptedUpstream((call) => {
      if (call.method === 'edb_cache_metrics')
        return { method_stats: { [`evil${ESCAPES}`]: { hits: 1 } }, total_requests: 1 }
      if (call.method === 'edb_providers') return { providers: [{ url: `http://a${ESCAPES}`, is_healthy: true }] }
      return new Response(JSON.stringify({ jsonrpc: '2.0', id: 1, error: { code: -32601, message: `no ${ESCAPES}` } }))
    })
    cleanup.push(hostile)
    const snapshot = await fetchSnapshot(hostile.url, 2_000)
    const unsafe = /[\u0000-\u001f\u007f-\u009f\u202e]/
    const method = Object.keys(snapshot.cacheMetrics.method_stats)[0]!
    expect(method).toStartWith('evil')
    expect(unsafe.test(method)).toBe(false)
    expect(unsafe.test(snapshot.providers.providers[0].url)).toBe(false)
  })
})
