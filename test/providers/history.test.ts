import { describe, expect, test } from 'bun:test'
import {
  createProviderHistory,
  HISTORY_KNOWN_FOR_MS,
  historyView,
  holds,
  learnCapabilities,
  learnHeld,
  learnMissing,
} from '../../src/providers/history.ts'
import { historyNeedOf } from '../../src/rpc/history-need.ts'

const state = (block: number) => ({ kind: 'state' as const, block })

describe('provider history', () => {
  test('default', () => {
    const history = createProviderHistory()
    expect([holds(history, state(1), 0), history.capabilities, historyView(history, 0)]).toEqual([
      'unknown',
      'unknown',
      { capabilities: 'unknown' },
    ])
  })

  test('behavior: an answer at a block means it holds it and above; "missing" at a block means nothing at or below it', () => {
    const history = createProviderHistory()
    learnHeld(history, state(500), 0, 'answers')
    learnMissing(history, state(300), 0, 'answers')
    expect([holds(history, state(600), 1), holds(history, state(400), 1), holds(history, state(300), 1)]).toEqual([
      'yes',
      'unknown',
      'no',
    ])
    // Pruned since: a "missing" above what it answered before wins, and an answer below the mark lowers it.
    learnMissing(history, state(550), 2, 'answers')
    expect(holds(history, state(520), 3)).toBe('no')
    learnHeld(history, state(540), 4, 'answers')
    expect([holds(history, state(540), 5), holds(history, state(539), 5)]).toEqual(['yes', 'no'])
  })

  test('behavior: what was learned expires and is learned again', () => {
    const history = createProviderHistory()
    learnMissing(history, state(300), 0, 'answers')
    expect(holds(history, state(100), HISTORY_KNOWN_FOR_MS - 1)).toBe('no')
    expect(holds(history, state(100), HISTORY_KNOWN_FOR_MS + 1)).toBe('unknown')
    learnMissing(history, state(120), HISTORY_KNOWN_FOR_MS + 2, 'answers')
    expect([
      holds(history, state(100), HISTORY_KNOWN_FOR_MS + 3),
      holds(history, state(200), HISTORY_KNOWN_FOR_MS + 3),
    ]).toEqual(['no', 'unknown'])
  })

  test('behavior: eth_capabilities: oldestBlock per resource, disabled, a rolling window that moves with the head; traces follow state', () => {
    const history = createProviderHistory()
    const read = learnCapabilities(
      history,
      {
        head: { number: '0x3e8', hash: `0x${'11'.repeat(32)}` },
        state: { disabled: false, oldestBlock: '0x360', deleteStrategy: { type: 'window', retentionBlocks: 128 } },
        stateproofs: { disabled: true },
        logs: { disabled: false, oldestBlock: '0x0' },
        receipts: { disabled: false },
      },
      0,
    )
    expect(read).toBe(true)
    // Head 1000, 128 kept: state from 873 up.
    expect([holds(history, state(872), 1), holds(history, state(873), 1)]).toEqual(['no', 'yes'])
    expect(holds(history, { kind: 'traces', block: 872 }, 1)).toBe('no')
    expect(holds(history, { kind: 'proofs', block: 999 }, 1)).toBe('no')
    expect(holds(history, { kind: 'logs', block: 0 }, 1)).toBe('yes')
    // A resource that says neither oldest block nor window (pruning in bursts) teaches nothing.
    expect(holds(history, { kind: 'receipts', block: 5 }, 1)).toBe('unknown')
    history.head = 1100
    expect(holds(history, state(900), 2)).toBe('no')
    expect(historyView(history, 2)).toMatchObject({
      capabilities: 'served',
      state: { oldest_block: 973, missing_up_to: 972, source: 'capabilities' },
      proofs: 'disabled',
    })
    expect(learnCapabilities(createProviderHistory(), 'garbage', 0)).toBe(false)
    expect(learnCapabilities(createProviderHistory(), { nothing: true }, 0)).toBe(false)
  })

  test('behavior: the history a call needs: its block by number, earliest, an EIP-1898 object, a log query from its fromBlock; tags and hashes need none', () => {
    const need = (method: string, params: unknown[]) =>
      historyNeedOf({ jsonrpc: '2.0', id: 1, method, params } as never)
    expect(need('eth_getBalance', ['0x01', '0x10'])).toEqual({ kind: 'state', block: 16 })
    expect(need('eth_getStorageAt', ['0x01', '0x0', 'earliest'])).toEqual({ kind: 'state', block: 0 })
    expect(need('eth_call', [{}, { blockNumber: '0x20' }])).toEqual({ kind: 'state', block: 32 })
    expect(need('eth_getProof', ['0x01', [], '0x5'])).toEqual({ kind: 'proofs', block: 5 })
    expect(need('debug_traceBlockByNumber', ['0x7'])).toEqual({ kind: 'traces', block: 7 })
    expect(need('eth_getLogs', [{ fromBlock: '0x9', toBlock: '0xa' }])).toEqual({ kind: 'logs', block: 9 })
    expect(need('eth_getBlockReceipts', ['0x3'])).toEqual({ kind: 'receipts', block: 3 })
    for (const [method, params] of [
      ['eth_getBalance', ['0x01', 'latest']],
      ['eth_getBalance', ['0x01', `0x${'ab'.repeat(32)}`]],
      ['eth_getLogs', [{ blockHash: `0x${'ab'.repeat(32)}` }]],
      ['eth_getLogs', ['garbage']],
      ['eth_blockNumber', []],
      ['eth_getBalance', 'not a list'],
    ] as [string, unknown[]][])
      expect(need(method, params)).toBeUndefined()
  })
})
