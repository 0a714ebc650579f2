import { describe, expect, test } from 'bun:test'
import { createOriginPolicy, parseOriginRule } from '../../src/util/origin-policy.ts'

describe('origin policy', () => {
  test('default', () => {
    const allowed = createOriginPolicy(['loopback'])
    expect(allowed('http://localhost:5173')).toBe(true)
    expect(allowed('https://evil.example')).toBe(false)
  })

  const table: [string[], string, boolean][] = [
    [['loopback'], 'http://127.0.0.1:3000', true],
    [['loopback'], 'http://[::1]:8080', true],
    [['loopback'], 'http://app.localhost', true],
    [['loopback'], 'http://localhost.evil.example', false],
    [['loopback'], 'null', false],
    [['loopback'], 'file://', false],
    [['https://app.example'], 'https://app.example', true],
    [['https://app.example'], 'http://app.example', false],
    [['https://app.example'], 'https://app.example:8443', false],
    [['https://app.example:*'], 'https://app.example:8443', true],
    [['https://*.example'], 'https://a.b.example', true],
    [['https://*.example'], 'https://example', true],
    [['https://*.example'], 'https://badexample', false],
    [['*'], 'https://anything.test', true],
    [[], 'http://localhost:1', false],
  ]
  for (const [rules, origin, verdict] of table) {
    test(`behavior: ${JSON.stringify(rules)} ${verdict ? 'allows' : 'refuses'} ${origin}`, () => {
      expect(createOriginPolicy(rules)(origin)).toBe(verdict)
    })
  }

  test('behavior: entries that are none of the accepted forms do not parse', () => {
    for (const entry of ['ftp://x', 'localhost', 'http://', 'http://a:99999', 'http://a/path', '**'])
      expect(parseOriginRule(entry)).toBeUndefined()
  })
})
