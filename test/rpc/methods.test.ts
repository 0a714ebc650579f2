import { describe, expect, test } from 'bun:test'
import { cacheableMethods, type MethodKind, managementMethods, methodInfo } from '../../src/rpc/methods.ts'
import { parseQuantity, parseQuantityJson, toQuantity } from '../../src/rpc/quantity.ts'

describe('methodInfo', () => {
  test('default', () => {
    expect(methodInfo('eth_getBlockByNumber')).toEqual({
      kind: 'read',
      pin: { kind: 'block', index: 0 },
      check: 'block',
      blockInterest: 'param',
      history: 'blocks',
    })
  })

  const table: [string, MethodKind, boolean][] = [
    ['eth_getAccountInfo', 'read', true],
    ['eth_call', 'read', true],
    ['eth_blockNumber', 'read', false],
    ['eth_gasPrice', 'read', false],
    ['eth_getFilterChanges', 'read', false],
    ['debug_traceTransaction', 'trace', true],
    ['trace_filter', 'trace', false],
    ['debug_traceSomethingNew', 'trace', false],
    ['eth_sendRawTransaction', 'write', false],
    ['personal_sign', 'write', false],
    ['evm_revert', 'dev-rewrite', false],
    ['anvil_setBalance', 'dev-rewrite', false],
    ['hardhat_reset', 'dev-rewrite', false],
    ['debug_setHead', 'dev-rewrite', false],
    ['evm_snapshot', 'other', false],
    ['anvil_nodeInfo', 'other', false],
    ['edb_ping', 'management', false],
    ['edb_nonsense', 'management', false],
    ['eth_newFilter', 'other', false],
    ['x_unknown', 'other', false],
  ]
  for (const [method, kind, cacheable] of table) {
    test(`behavior: ${method} is ${kind}${cacheable ? ', cacheable' : ''}`, () => {
      expect({ kind: methodInfo(method).kind, cacheable: methodInfo(method).pin !== undefined }).toEqual({
        kind,
        cacheable,
      })
    })
  }

  test('behavior: exactly the state-changing management methods are privileged', () => {
    expect(managementMethods().filter((name) => methodInfo(name).privileged)).toEqual([
      'edb_register',
      'edb_deleteCache',
      'edb_shutdown',
    ])
    expect(managementMethods()).toHaveLength(14)
    expect(cacheableMethods()).toContain('eth_getAccountInfo')
  })
})

describe('quantity codec', () => {
  const table: [unknown, number | undefined][] = [
    ['0x1', 1],
    ['0x01', 1],
    ['0X1', undefined],
    ['0xA', 10],
    ['0x', undefined],
    ['1', undefined],
    [1, undefined],
    ['0x1fffffffffffff', 2 ** 53 - 1],
    ['0x20000000000000', undefined],
    ['latest', undefined],
    [null, undefined],
  ]
  for (const [value, number] of table) {
    test(`behavior: ${JSON.stringify(value)} reads as ${number}`, () => {
      expect(parseQuantity(value)).toBe(number)
    })
  }

  test('behavior: JSON text and the canonical form', () => {
    expect(parseQuantityJson('"0x7a69"')).toBe(31337)
    expect(parseQuantityJson('not json')).toBeUndefined()
    expect(toQuantity(31337)).toBe('0x7a69')
    expect(toQuantity(0)).toBe('0x0')
  })
})

describe('the method table’s columns', () => {
  test('behavior: realtime, account fields, standard namespaces and costs come from the one table', async () => {
    const { realtimeMethods, accountInfoFields, methodInfo } = await import('../../src/rpc/methods.ts')
    expect(realtimeMethods().sort()).toEqual([
      'eth_blockNumber',
      'eth_feeHistory',
      'eth_gasPrice',
      'eth_maxPriorityFeePerGas',
    ])
    expect(accountInfoFields()).toEqual([
      ['balance', 'eth_getBalance'],
      ['nonce', 'eth_getTransactionCount'],
      ['code', 'eth_getCode'],
    ])
    expect(
      ['eth_getLogs', 'debug_traceTransaction', 'debug_getRawBlock', 'trace_filter', 'eth_call'].map(
        (name) => methodInfo(name).cost ?? 1,
      ),
    ).toEqual([10, 20, 20, 20, 1])
    expect(
      ['eth_getBlockByHash', 'eth_getTransactionReceipt', 'eth_getLogs', 'eth_call'].map(
        (name) => methodInfo(name).check,
      ),
    ).toEqual(['block', 'receipt', 'logs', undefined])
  })
})
