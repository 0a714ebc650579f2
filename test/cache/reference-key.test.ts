import { describe, expect, test } from 'bun:test'
import { referenceKey, sipHash13 } from '../../src/cache/reference-key.ts'

describe('referenceKey', () => {
  test('default', () => {
    expect(referenceKey('eth_getBlockByNumber', ['0x1000000', false])).toBe('eth_getBlockByNumber:30950ac22417e7fa')
  })

  const table: [string, string, unknown, string][] = [
    ['full transactions flag', 'eth_getBlockByNumber', ['0x0', true], 'eth_getBlockByNumber:7439f0244b7da06a'],
    ['empty params array', 'eth_chainId', [], 'eth_chainId:59642169565dbcd5'],
    ['absent params hash as null', 'eth_chainId', undefined, 'eth_chainId:674b4dcefea2799c'],
    [
      'hex without zero padding',
      'eth_getBalance',
      ['0xf39Fd6e51aad88F6F4ce6aB8827279cffFb92266', '0x1'],
      'eth_getBalance:180042cb1540c88',
    ],
    [
      'object inside params',
      'eth_call',
      [{ to: '0x1234567890123456789012345678901234567890', data: '0x' }, '0x1000000'],
      'eth_call:a13a88e4f9919c9',
    ],
    ['number as its JSON text', 'eth_getLogs', [{ fromBlock: 1, toBlock: '0x2' }], 'eth_getLogs:2d77eb58948ee447'],
    [
      'nested objects sorted by key',
      'debug_traceTransaction',
      ['0xabc', { tracerConfig: { onlyTopCall: true }, tracer: 'callTracer' }],
      'debug_traceTransaction:ac50a1a3807871b0',
    ],
    // The two below were cross-checked against Rust's DefaultHasher with the same encoding.
    [
      'keys sorted by UTF-8 bytes, not UTF-16 units',
      'x_test',
      [{ a: 'é', '\u{1F600}': 2, '\uff61': 1 }],
      'x_test:210b5dab6da0b3',
    ],
    ['input longer than 255 bytes', 'eth_call', ['ab'.repeat(150), 1.5, null], 'eth_call:23255e197cf26b22'],
  ]
  for (const [rule, method, params, expected] of table) {
    test(`behavior: ${rule}`, () => {
      expect(referenceKey(method, params)).toBe(expected)
    })
  }

  test('behavior: object key order does not change the key', () => {
    const a = referenceKey('eth_call', [{ to: '0x12', data: '0x', from: '0x34', gas: '0x5' }, 'latest'])
    const b = referenceKey('eth_call', [{ gas: '0x5', from: '0x34', data: '0x', to: '0x12' }, 'latest'])
    expect(a).toBe(b)
  })
})

describe('sipHash13', () => {
  // Expected values from CPython's siphash13 (PYTHONHASHSEED=0 uses zero keys), an independent implementation.
  const table: [number, string][] = [
    [1, '68a914128e01e473'],
    [7, '2f098ab0c751325a'],
    [8, 'ead411e67ebe2eea'],
    [9, '75927f9d95124362'],
    [255, '3e0b11e29f69fb60'],
    [256, 'fa21fb56953b1db9'],
    [257, '73ae814c4f810fd6'],
    [1000, 'a5c99acabaf7b2fa'],
  ]
  for (const [length, expected] of table) {
    test(`behavior: ${length} bytes`, () => {
      const bytes = Uint8Array.from({ length }, (_, i) => i % 251)
      expect(sipHash13(bytes).toString(16)).toBe(expected)
    })
  }
})
