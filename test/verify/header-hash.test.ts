import { describe, expect, test } from 'bun:test'
import { headerLayout, recomputeBlockHash } from '../../src/verify/header-hash.ts'
import { rpc as rpcResponse, startAnvil } from '../helpers/anvil.ts'

/** A node's result for a call (its error, thrown). */
async function rpc(url: string, method: string, params: unknown[] = []): Promise<any> {
  const response = await rpcResponse(url, method, params)
  if (response.error !== undefined) throw new Error(`${method}: ${response.error.message}`)
  return response.result
}

/** Every header layout anvil produces (its --hardfork), and the layout its blocks must be read as. */
const FORKS: [hardfork: string, layout: string][] = [
  ['berlin', 'legacy'],
  ['london', 'london'],
  ['paris', 'london'],
  ['shanghai', 'shanghai'],
  ['cancun', 'cancun'],
  ['prague', 'prague'],
  ['osaka', 'prague'],
]

/** A block of each layout, with a transaction in it (a value transfer), as anvil answers it. */
async function blockOf(hardfork: string): Promise<Record<string, unknown>> {
  await using anvil = await startAnvil(['--hardfork', hardfork])
  const [from] = await rpc(anvil.url, 'eth_accounts')
  await rpc(anvil.url, 'eth_sendTransaction', [
    { from, to: `0x${'12'.repeat(20)}`, value: '0x1', gasPrice: '0x77359400' },
  ])
  await rpc(anvil.url, 'anvil_mine', ['0x1'])
  return await rpc(anvil.url, 'eth_getBlockByNumber', ['0x1', true])
}

describe('header hash (SPEC §15)', () => {
  test('default', async () => {
    const block = await blockOf('prague')
    expect(recomputeBlockHash(block)).toBe(block.hash as string)
  })

  for (const [hardfork, layout] of FORKS) {
    test(`behavior: a ${hardfork} block recomputes to its hash (layout ${layout}); one field changed does not`, async () => {
      const block = await blockOf(hardfork)
      expect(headerLayout(block)).toBe(layout)
      expect(recomputeBlockHash(block)).toBe(block.hash as string)
      expect(recomputeBlockHash({ ...block, stateRoot: `0x${'ab'.repeat(32)}` })).not.toBe(block.hash as string)
      expect(recomputeBlockHash({ ...block, gasUsed: '0x1' })).not.toBe(block.hash as string)
    })
  }

  test('behavior: a layout not known here is not guessed: an unknown field, a fork field after a missing one, garbage', async () => {
    const block = await blockOf('prague')
    expect(headerLayout({ ...block, someFutureRoot: `0x${'00'.repeat(32)}` })).toBeUndefined()
    expect(recomputeBlockHash({ ...block, someFutureRoot: `0x${'00'.repeat(32)}` })).toBeUndefined()
    const { parentBeaconBlockRoot: _, ...gap } = block
    expect(headerLayout(gap)).toBeUndefined()
    for (const garbage of [null, 'block', [], { ...block, stateRoot: 'not hex' }, { ...block, number: 12 }])
      expect(recomputeBlockHash(garbage)).toBeUndefined()
  })
})
