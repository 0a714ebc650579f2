import { describe, expect, test } from 'bun:test'
import { classifyRpcError, type ErrorVerdict } from '../../src/providers/classify.ts'

describe('classifyRpcError', () => {
  const table: [number, string, ErrorVerdict][] = [
    [3, 'execution reverted: nope', 'answer'],
    [-32000, 'execution reverted', 'answer'],
    [-32602, 'invalid argument 0: hex string without 0x prefix', 'answer'],
    [-32601, 'the method foo does not exist/is not available', 'answer'],
    [-32000, 'nonce too low', 'answer'],
    [-32000, 'insufficient funds for gas * price + value', 'answer'],
    [429, 'Too Many Requests', 'rate-limited'],
    [-32005, 'limit exceeded', 'rate-limited'],
    [-32000, 'daily request limit reached, upgrade your plan', 'rate-limited'],
    [-32603, 'internal error', 'provider-fault'],
    [-32000, 'missing trie node 1234 (path )', 'behind'],
    [-32000, 'header not found', 'behind'],
    [-32000, 'unknown block', 'behind'],
    [-32603, 'missing trie node 1234 (path )', 'behind'],
    [-32000, 'upstream request timed out', 'provider-fault'],
    [-32700, 'parse error', 'answer'],
    [-32600, 'invalid request', 'answer'],
    [-32000, 'already known', 'answer'],
    [-32000, 'some brand new failure', 'unknown'],
    [-32099, 'whatever', 'unknown'],
  ]
  for (const [code, message, verdict] of table) {
    test(`behavior: ${code} "${message}" is ${verdict}`, () => {
      expect(classifyRpcError({ code, message })).toBe(verdict)
    })
  }
})
