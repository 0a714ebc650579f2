import { describe, expect, test } from 'bun:test'
import { redactText, redactUrl } from '../../src/util/redact.ts'

const SECRETS = ['0123456789abcdef0123456789abcdef', 'AbCdEf123456ghijKLmn', 'secret', 'TOKEN', 'k', 'onlyletterskey']

describe('redactUrl', () => {
  test('default', () => {
    expect(redactUrl('https://eth.llamarpc.com')).toBe('https://eth.llamarpc.com')
    expect(redactUrl('http://127.0.0.1:8545/')).toBe('http://127.0.0.1:8545')
  })

  const withSecrets = [
    'https://mainnet.infura.io/v3/0123456789abcdef0123456789abcdef',
    'https://eth-mainnet.g.alchemy.com/v2/AbCdEf123456ghijKLmn',
    'https://user:secret@node.example:8545/rpc',
    'https://rpc.example/eth?TOKEN',
    'https://rpc.example/eth?apikey=k',
    'https://rpc.example/onlyletterskey',
    'wss://user:secret@node.example/ws',
    'htps://node.example/v3/secret',
    'node.example/v3/secret',
  ]
  for (const raw of withSecrets) {
    test(`behavior: ${raw} shows scheme, host and port only, and no secret`, () => {
      const shown = redactUrl(raw)
      for (const secret of SECRETS)
        expect({ raw, shown, leaks: shown.includes(secret) }).toEqual({ raw, shown, leaks: false })
      expect(shown).toMatch(/#[0-9a-f]{8}>$/)
    })
  }

  test('behavior: scheme, host and port stay readable; two keys on one host stay distinguishable; the fingerprint is stable', () => {
    const one = redactUrl('https://mainnet.infura.io/v3/aaaa')
    const two = redactUrl('https://mainnet.infura.io/v3/bbbb')
    expect(one).toStartWith('https://mainnet.infura.io/<#')
    expect(one).not.toBe(two)
    expect(redactUrl('https://mainnet.infura.io/v3/aaaa')).toBe(one)
    expect(redactUrl('https://user:pw@node.example:8545')).toStartWith('https://node.example:8545/<#')
  })
})

describe('redactText', () => {
  test('default', () => {
    const url = 'https://mainnet.infura.io/v3/0123456789abcdef0123456789abcdef'
    expect(redactText(`fetch ${url} failed`, [url])).toBe(`fetch ${redactUrl(url)} failed`)
  })

  test('behavior: an upstream quoting its own URL without the trailing slash is redacted too', () => {
    const url = 'https://node.example/key123/'
    expect(redactText('bad request to https://node.example/key123', [url])).not.toContain('key123')
  })
})
