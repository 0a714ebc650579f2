import { describe, expect, test } from 'bun:test'
import { redactText, redactUrl } from '../src/util/redact.ts'

describe('redactUrl', () => {
  const table: [string, string][] = [
    ['https://eth.llamarpc.com', 'https://eth.llamarpc.com'],
    ['https://eth.api.onfinality.io/public', 'https://eth.api.onfinality.io/public'],
    ['https://api.zan.top/eth-mainnet', 'https://api.zan.top/eth-mainnet'],
    ['https://eth-mainnet.g.alchemy.com/v2/AbCdEf123456ghijKLmn', 'https://eth-mainnet.g.alchemy.com/v2/***'],
    ['https://mainnet.infura.io/v3/0123456789abcdef0123456789abcdef', 'https://mainnet.infura.io/v3/***'],
    ['https://user:secret@node.example:8545/rpc', 'https://***@node.example:8545/rpc'],
    ['https://rpc.example/eth?apikey=SECRET&x=1', 'https://rpc.example/eth?apikey=***&x=***'],
    ['http://127.0.0.1:8545', 'http://127.0.0.1:8545'],
    ['not a url with key SECRET', '***'],
  ]
  for (const [input, expected] of table) {
    test(`behavior: ${input}`, () => {
      expect(redactUrl(input)).toBe(expected)
    })
  }
})

describe('redactText', () => {
  test('default', () => {
    const url = 'https://mainnet.infura.io/v3/0123456789abcdef0123456789abcdef'
    expect(redactText(`fetch ${url} failed`, [url])).toBe('fetch https://mainnet.infura.io/v3/*** failed')
  })
})
