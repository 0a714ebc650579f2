import { describe, expect, test } from 'bun:test'
import { planCall, verdictFor } from '../../src/cache/policy.ts'

const HASH = `0x${'ab'.repeat(32)}`
const ADDRESS = '0xf39Fd6e51aad88F6F4ce6aB8827279cffFb92266'

describe('state keys (SPEC §5.2)', () => {
  test('behavior: an address in any case and a slot in any hex form are one key; what is forwarded stays as written', () => {
    const slot32 = `0x${'0'.repeat(61)}3e8`
    const a = planCall('eth_getStorageAt', [ADDRESS, '0x3e8', '0x10'])
    const b = planCall('eth_getStorageAt', [ADDRESS.toLowerCase(), slot32, '0x010'])
    expect(a?.key).toBe(b?.key as string)
    expect(a?.params).toEqual([ADDRESS, '0x3e8', '0x10'])
    const proofs = ['0x1', `0x${'0'.repeat(63)}1`].map(
      (slot) => planCall('eth_getProof', [ADDRESS, [slot], '0x10'])?.key,
    )
    expect(proofs[0]).toBe(proofs[1] as string)
    expect(planCall('eth_getStorageAt', [ADDRESS, '0x3e9', '0x10'])?.key).not.toBe(a?.key as string)
    for (const method of ['eth_getBalance', 'eth_getCode', 'eth_getTransactionCount', 'eth_getAccountInfo']) {
      expect(planCall(method, [ADDRESS, '0x10'])?.key).toBe(
        planCall(method, [ADDRESS.toLowerCase(), '0x10'])?.key as string,
      )
    }
  })
})

describe('planCall', () => {
  test('default', () => {
    expect(planCall('eth_getBalance', [ADDRESS, '0x10'])).toEqual({
      // SPEC §5.2: the address compares case-insensitively (the key holds it in lower case).
      key: `eth_getBalance:["${ADDRESS.toLowerCase()}","0x10"]`,
      method: 'eth_getBalance',
      anchor: { kind: 'block', number: 16 },
      params: [ADDRESS, '0x10'],
    })
  })

  const never: [string, string, unknown][] = [
    ['an uncacheable method', 'eth_blockNumber', []],
    ['a write', 'eth_sendRawTransaction', ['0x01']],
    ['latest', 'eth_getBalance', [ADDRESS, 'latest']],
    ['pending', 'eth_getCode', [ADDRESS, 'pending']],
    ['safe', 'eth_getTransactionCount', [ADDRESS, 'safe']],
    ['finalized', 'eth_getStorageAt', [ADDRESS, '0x0', 'finalized']],
    ['an omitted block', 'eth_call', [{ to: ADDRESS }]],
    ['a numeric (non-hex) block', 'eth_getBalance', [ADDRESS, 16]],
    ['requireCanonical', 'eth_getBalance', [ADDRESS, { blockHash: HASH, requireCanonical: true }]],
    ['a by-hash method given a number', 'eth_getBlockByHash', ['0x10', false]],
    ['object params', 'eth_getBalance', { address: ADDRESS }],
    ['a malformed tx hash', 'eth_getTransactionByHash', ['0x1234']],
    ['logs with an open range', 'eth_getLogs', [{ fromBlock: '0x1' }]],
    ['logs up to latest', 'eth_getLogs', [{ fromBlock: '0x1', toBlock: 'latest' }]],
    ['logs with no range', 'eth_getLogs', [{ address: ADDRESS }]],
    ['logs with a reversed range', 'eth_getLogs', [{ fromBlock: '0x5', toBlock: '0x1' }]],
    ['logs mixing blockHash and a range', 'eth_getLogs', [{ blockHash: HASH, fromBlock: '0x1' }]],
    ['logs bounded by an EIP-1898 object', 'eth_getLogs', [{ fromBlock: { blockNumber: '0x1' }, toBlock: '0x2' }]],
    ['logs by a blockHash object', 'eth_getLogs', [{ blockHash: { blockHash: HASH } }]],
  ]
  for (const [name, method, params] of never) {
    test(`behavior: ${name} is never cached`, () => {
      expect(planCall(method, params)).toBeUndefined()
    })
  }

  test('behavior: block numbers are normalized and object key order is ignored', () => {
    const a = planCall('eth_call', [{ to: ADDRESS, data: '0x01' }, '0x01'])
    const b = planCall('eth_call', [{ data: '0x01', to: ADDRESS }, '0x1'])
    const c = planCall('eth_call', [{ data: '0x01', to: ADDRESS }, { blockNumber: '0x001' }])
    const d = planCall('eth_call', [{ to: ADDRESS, data: '0x01' }, { blockNumber: '0x1' }])
    expect(a?.key).toBe(b?.key as string)
    // The key's form is what is forwarded: "0x01" goes upstream as "0x1".
    expect(a?.params).toEqual([{ to: ADDRESS, data: '0x01' }, '0x1'])
    // An EIP-1898 object is another question than the plain number (a node may reject it): its own key, normalized inside.
    expect(c?.key).not.toBe(a?.key as string)
    expect(c?.key).toBe(d?.key as string)
    expect(c?.params[1]).toEqual({ blockNumber: '0x1' })
    // calldata is never normalized: 0x01 and 0x0001 are different calls
    expect(planCall('eth_call', [{ to: ADDRESS, data: '0x0001' }, '0x1'])?.key).not.toBe(a?.key as string)
  })

  test('behavior: earliest is block 0; hashes (plain or EIP-1898) are immutable anchors', () => {
    expect(planCall('eth_getBalance', [ADDRESS, 'earliest'])?.anchor).toEqual({ kind: 'block', number: 0 })
    expect(planCall('eth_getBalance', [ADDRESS, { blockHash: HASH }])?.anchor).toEqual({ kind: 'immutable' })
    expect(planCall('eth_getBalance', [ADDRESS, { blockHash: HASH, requireCanonical: false }])?.anchor).toEqual({
      kind: 'immutable',
    })
    expect(planCall('eth_getBlockByHash', [HASH.toUpperCase().replace('0X', '0x'), true])?.key).toBe(
      `eth_getBlockByHash:["${HASH}",true]`,
    )
  })

  test('behavior: transaction-addressed methods anchor on the transaction', () => {
    expect(planCall('eth_getTransactionReceipt', [HASH])?.anchor).toEqual({
      kind: 'tx',
      hash: HASH,
      blockInResult: true,
    })
    expect(planCall('debug_traceTransaction', [HASH, { tracer: 'callTracer' }])?.anchor).toEqual({
      kind: 'tx',
      hash: HASH,
      blockInResult: false,
    })
  })

  test('behavior: closed log ranges anchor on toBlock; blockHash filters are immutable', () => {
    const plan = planCall('eth_getLogs', [{ toBlock: '0x0a', address: ADDRESS, fromBlock: 'earliest' }])
    expect(plan).toEqual({
      key: `eth_getLogs:[{"address":"${ADDRESS}","fromBlock":"0x0","toBlock":"0xa"}]`,
      method: 'eth_getLogs',
      anchor: { kind: 'block', number: 10 },
      params: [{ address: ADDRESS, fromBlock: '0x0', toBlock: '0xa' }],
    })
    expect(planCall('eth_getLogs', [{ blockHash: HASH }])?.anchor).toEqual({ kind: 'immutable' })
  })

  test('behavior: chain constants are always cacheable', () => {
    expect(planCall('eth_chainId', undefined)?.anchor).toEqual({ kind: 'immutable' })
    expect(planCall('net_version', [])?.key).toBe('net_version:[]')
  })
})

describe('verdictFor', () => {
  const at = (method: string, params: unknown[]) => planCall(method, params)!
  test('default', () => {
    expect(verdictFor(at('eth_getBalance', [ADDRESS, '0x5']), '"0x1"')).toEqual({ kind: 'when-final', block: 5 })
  })
  test('behavior: null results are never stored', () => {
    expect(verdictFor(at('eth_getBlockByHash', [HASH, false]), 'null')).toEqual({ kind: 'skip' })
    expect(verdictFor(at('eth_getTransactionReceipt', [HASH]), 'null')).toEqual({ kind: 'skip' })
  })
  test('behavior: a pending transaction is skipped; a mined one waits for its block to be final', () => {
    const plan = at('eth_getTransactionByHash', [HASH])
    expect(verdictFor(plan, '{"hash":"0x1","blockNumber":null}')).toEqual({ kind: 'skip' })
    expect(verdictFor(plan, '{"hash":"0x1","blockNumber":"0x2a"}')).toEqual({ kind: 'when-final', block: 42 })
  })
  test('behavior: traces by transaction wait for the transaction to be final; an empty trace is a result', () => {
    expect(verdictFor(at('trace_transaction', [HASH]), '[]')).toEqual({ kind: 'when-tx-final', hash: HASH })
    expect(verdictFor(at('trace_block', ['0x3']), '[]')).toEqual({ kind: 'when-final', block: 3 })
  })
  test('behavior: answers pinned by hash are stored at once', () => {
    expect(verdictFor(at('eth_getBlockByHash', [HASH, false]), '{"number":"0x1"}')).toEqual({ kind: 'store' })
  })
})
