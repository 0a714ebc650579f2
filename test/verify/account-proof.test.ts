import { afterAll, beforeAll, describe, expect, test } from 'bun:test'
import { EMPTY_CODE_HASH, EMPTY_TRIE_ROOT, ProofError, verifyAccountProof } from '../../src/verify/account-proof.ts'
import { warmUpProofChecks } from '../../src/verify/warm-up.ts'
import { type Anvil, rpc as rpcResponse, startAnvil } from '../helpers/anvil.ts'

/** A node's result for a call (its error, thrown). */
async function rpc(url: string, method: string, params: unknown[] = []): Promise<any> {
  const response = await rpcResponse(url, method, params)
  if (response.error !== undefined) throw new Error(`${method}: ${response.error.message}`)
  return response.result
}

/**
 * Proofs taken from a real node (anvil): an account with code and storage, an account with a
 * balance only, an account that does not exist, a slot never written. Each verifies against the
 * block's state root; each altered answer does not.
 */
const CONTRACT = `0x${'c0'.repeat(20)}`
const HOLDER = `0x${'b0'.repeat(20)}`
const NOBODY = `0x${'0d'.repeat(20)}`
/** A contract with many slots: a storage trie with branches and extensions at several depths. */
const CROWDED = `0x${'cc'.repeat(20)}`
let anvil: Anvil
let stateRoot: string
let block: string

beforeAll(async () => {
  anvil = await startAnvil()
  await rpc(anvil.url, 'anvil_setCode', [CONTRACT, '0x6001600055'])
  await rpc(anvil.url, 'anvil_setStorageAt', [CONTRACT, '0x0', `0x${'0'.repeat(63)}5`])
  await rpc(anvil.url, 'anvil_setStorageAt', [CONTRACT, '0x2', `0x${'f'.repeat(64)}`])
  await rpc(anvil.url, 'anvil_setBalance', [HOLDER, '0xde0b6b3a7640000'])
  await rpc(anvil.url, 'anvil_setCode', [CROWDED, '0x00'])
  for (let index = 1; index <= 64; index++)
    await rpc(anvil.url, 'anvil_setStorageAt', [
      CROWDED,
      `0x${index.toString(16)}`,
      `0x${index.toString(16).padStart(64, '0')}`,
    ])
  await rpc(anvil.url, 'anvil_mine', ['0x1'])
  const mined = await rpc(anvil.url, 'eth_getBlockByNumber', ['latest', false])
  stateRoot = mined.stateRoot
  block = mined.number
})
afterAll(() => anvil.stop())

/** Slots as nodes take them: 32 bytes. */
const slot = (n: number) => `0x${n.toString(16).padStart(64, '0')}`
const proofOf = (address: string, slots: string[]) => rpc(anvil.url, 'eth_getProof', [address, slots, block])

describe('account proofs (SPEC §15)', () => {
  test('default', async () => {
    const proven = await verifyAccountProof(stateRoot, HOLDER, await proofOf(HOLDER, []))
    expect(proven.account).toEqual({
      nonce: '0x0',
      balance: '0xde0b6b3a7640000',
      storageRoot: EMPTY_TRIE_ROOT,
      codeHash: EMPTY_CODE_HASH,
    })
  })

  test('behavior: a contract: its code hash, storage root and slots (a written one, a full one, one never written: zero)', async () => {
    const proven = await verifyAccountProof(stateRoot, CONTRACT, await proofOf(CONTRACT, [slot(0), slot(1), slot(2)]))
    expect(proven.account?.codeHash).toBe(await rpc(anvil.url, 'web3_sha3', ['0x6001600055']))
    expect([...proven.storage]).toEqual([
      ['0x0', '0x5'],
      ['0x1', '0x0'],
      ['0x2', `0x${'f'.repeat(64)}`],
    ])
  })

  test('behavior: a crowded storage trie: every slot proven at its depth, and slots never written proven zero', async () => {
    const slots = [1, 2, 17, 33, 64, 65, 1000].map(slot)
    const proven = verifyAccountProof(stateRoot, CROWDED, await proofOf(CROWDED, slots))
    expect([...proven.storage.values()]).toEqual(['0x1', '0x2', '0x11', '0x21', '0x40', '0x0', '0x0'])
  })

  test('behavior: proofs of absence: an account that does not exist, and a slot of it, prove zeros', async () => {
    const proven = await verifyAccountProof(stateRoot, NOBODY, await proofOf(NOBODY, [slot(7)]))
    expect(proven.account).toBeUndefined()
    expect(proven.storage.get('0x7')).toBe('0x0')
  })

  test('behavior: an altered answer proves nothing: a balance, a nonce, a storage value, a proof node, the root', async () => {
    const holder = await proofOf(HOLDER, [])
    const contract = await proofOf(CONTRACT, [slot(0)])
    const altered = [
      [HOLDER, { ...holder, balance: '0xde0b6b3a7640001' }, stateRoot],
      [HOLDER, { ...holder, nonce: '0x1' }, stateRoot],
      [CONTRACT, { ...contract, storageProof: [{ ...contract.storageProof[0], value: '0x6' }] }, stateRoot],
      [
        HOLDER,
        {
          ...holder,
          accountProof: [...holder.accountProof.slice(0, -1), `${holder.accountProof.at(-1).slice(0, -2)}00`],
        },
        stateRoot,
      ],
      [HOLDER, holder, `0x${'ab'.repeat(32)}`],
      // The absent account's proof for an account that exists.
      [HOLDER, await proofOf(NOBODY, []), stateRoot],
      [HOLDER, { ...holder, accountProof: 'garbage' }, stateRoot],
      // Nodes past the end of the path, and an absent account stating roots it does not have.
      [HOLDER, { ...holder, accountProof: [...holder.accountProof, holder.accountProof[0]] }, stateRoot],
      [NOBODY, { ...(await proofOf(NOBODY, [])), codeHash: `0x${'ab'.repeat(32)}` }, stateRoot],
      [NOBODY, { ...(await proofOf(NOBODY, [])), storageHash: `0x${'ab'.repeat(32)}` }, stateRoot],
    ] as const
    for (const [address, answer, root] of altered)
      expect(() => verifyAccountProof(root, address, answer)).toThrow(ProofError)
  })
})

describe('the warm-up of the proof checks', () => {
  test('behavior: its proofs (anvil’s) verify, and every one of its rounds runs', async () => {
    const fixture = (await import('../../src/verify/warm-up-proofs.json')).default
    const proven = fixture.proofs.map((proof) => verifyAccountProof(fixture.stateRoot, proof.address, proof))
    expect(proven.map((state) => state.storage.size)).toEqual([8, 0, 0])
    const rounds: (() => void)[] = []
    warmUpProofChecks((run) => rounds.push(run))
    let ran = 0
    while (rounds.length > 0) {
      ;(rounds.shift() as () => void)()
      ran += 1
    }
    expect(ran).toBe(32)
  })
})
