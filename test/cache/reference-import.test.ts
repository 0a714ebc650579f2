import { afterAll, describe, expect, test } from 'bun:test'
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { type ImportedEntry, readReferenceCache } from '../../src/cache/reference-import.ts'
import { referenceKey } from '../../src/cache/reference-key.ts'

const cacheable = new Set([
  'eth_chainId',
  'eth_call',
  'eth_getBlockByNumber',
  'eth_getLogs',
  'eth_getTransactionByHash',
  'eth_getTransactionReceipt',
  'debug_traceTransaction',
])
const isCacheableMethod = (method: string) => cacheable.has(method)

const root = await mkdtemp(join(tmpdir(), 'reference-import-'))
afterAll(() => rm(root, { recursive: true, force: true }))
let dirs = 0
async function chainDir(): Promise<string> {
  const dir = join(root, `chain-${++dirs}`)
  await mkdir(dir, { recursive: true })
  return dir
}

const accessedAt = 1_700_000_000
const response = (id: number, body: Record<string, unknown>) => ({ jsonrpc: '2.0', id, ...body })
const block = { number: '0x1000000', hash: `0x${'ab'.repeat(32)}`, transactions: [] }
const trace = { type: 'CALL', from: '0x01', to: '0x02', revertReason: 'prix: 5 € — 日本語 ✓ 😀' }
const minedTx = { hash: '0xaa', blockNumber: '0x10', blockHash: `0x${'cd'.repeat(32)}` }

const kept: [string, unknown, unknown][] = [
  ['eth_getBlockByNumber', ['0x1000000', false], block],
  ['eth_chainId', undefined, '0x1'],
  ['debug_traceTransaction', ['0xabc', { tracer: 'callTracer' }], trace],
  ['eth_getTransactionByHash', ['0xaa'], minedTx],
  ['eth_getLogs', [{ fromBlock: '0x1', toBlock: '0x2' }], []],
]

/** A reference cache as the Rust proxy writes it: kept entries, then ones the import must drop. */
function referenceObject(): Record<string, unknown> {
  const object: Record<string, unknown> = {}
  kept.forEach(([method, params, result], i) => {
    object[referenceKey(method, params)] = { data: response(i, { result }), accessed_at: accessedAt + i }
  })
  const drop = (method: string, params: unknown, data: unknown) => {
    object[referenceKey(method, params)] = { data, accessed_at: accessedAt }
  }
  drop('eth_getBlockByNumber', ['0x2000000', false], response(10, { result: null }))
  drop(
    'eth_call',
    [{ to: '0x02', data: '0x' }, '0x10'],
    response(11, { error: { code: 3, message: 'execution reverted' } }),
  )
  drop('eth_getTransactionByHash', ['0xbb'], response(12, { result: { hash: '0xbb', blockNumber: null } }))
  drop('eth_getTransactionReceipt', ['0xcc'], response(13, {}))
  drop('eth_blockNumber', [], response(14, { result: '0x10' }))
  object[referenceKey('eth_chainId', [])] = 42
  object['not-a-key'] = { data: response(15, { result: '0x1' }), accessed_at: accessedAt }
  return object
}

const expectedEntries: ImportedEntry[] = kept.map(([method, params, result], i) => ({
  key: referenceKey(method, params),
  method,
  resultJson: JSON.stringify(result),
  accessedAt: accessedAt + i,
}))
const expectedDropped = 7

function referenceBytes(): Uint8Array {
  return new TextEncoder().encode(JSON.stringify(referenceObject(), null, 2))
}

/** Cut into at least 12 byte slices, one cut falling between the bytes of a multi-byte character. */
function slices(bytes: Uint8Array): Uint8Array[] {
  const text = new TextDecoder().decode(bytes)
  const euro = text.indexOf('€')
  const splitChar = euro === -1 ? [] : [new TextEncoder().encode(text.slice(0, euro)).length + 1]
  const step = Math.ceil(bytes.length / 12)
  const cuts = [...new Set([...splitChar, ...Array.from({ length: 11 }, (_, i) => (i + 1) * step)])]
    .filter((cut) => cut < bytes.length)
    .sort((a, b) => a - b)
  return [0, ...cuts].map((start, i) => bytes.subarray(start, cuts[i] ?? bytes.length))
}

async function writeSlices(dir: string, bytes: Uint8Array): Promise<number> {
  await mkdir(dir, { recursive: true })
  const parts = slices(bytes)
  await Promise.all(parts.map((part, i) => writeFile(join(dir, `rpc.json.${i + 1}`), part)))
  return parts.length
}

describe('readReferenceCache', () => {
  test('default', async () => {
    const dir = await chainDir()
    const count = await writeSlices(join(dir, 'rpc_cache'), referenceBytes())
    expect(count).toBeGreaterThanOrEqual(10)
    const cache = await readReferenceCache(dir, isCacheableMethod)
    expect(cache).toEqual({
      source: `${join(dir, 'rpc_cache', 'rpc.json')}.{1..${count}}`,
      entries: expectedEntries,
      dropped: expectedDropped,
    })
  })

  test('behavior: a slice boundary splits a multi-byte character', () => {
    const parts = slices(referenceBytes())
    const splitsChar = parts.some((part) => {
      const last = part[part.length - 1] as number
      return last >= 0xc0
    })
    expect(splitsChar).toBe(true)
  })

  test('behavior: a single rpc.json is read', async () => {
    const dir = await chainDir()
    await writeFile(join(dir, 'rpc.json'), referenceBytes())
    expect(await readReferenceCache(dir, isCacheableMethod)).toEqual({
      source: join(dir, 'rpc.json'),
      entries: expectedEntries,
      dropped: expectedDropped,
    })
  })

  test('behavior: slices directly in the chain directory are read', async () => {
    const dir = await chainDir()
    const count = await writeSlices(dir, referenceBytes())
    expect(await readReferenceCache(dir, isCacheableMethod)).toEqual({
      source: `${join(dir, 'rpc.json')}.{1..${count}}`,
      entries: expectedEntries,
      dropped: expectedDropped,
    })
  })

  test('behavior: rpc_cache slices win over rpc.json, which wins over slices in the directory', async () => {
    const dir = await chainDir()
    const one = (result: string) =>
      new TextEncoder().encode(
        JSON.stringify({ [referenceKey('eth_chainId', [])]: { data: response(1, { result }), accessed_at: 1 } }),
      )
    await writeSlices(dir, one('0x3'))
    expect((await readReferenceCache(dir, isCacheableMethod))?.entries[0]?.resultJson).toBe('"0x3"')
    await writeFile(join(dir, 'rpc.json'), one('0x2'))
    expect((await readReferenceCache(dir, isCacheableMethod))?.entries[0]?.resultJson).toBe('"0x2"')
    await writeSlices(join(dir, 'rpc_cache'), one('0x1'))
    expect((await readReferenceCache(dir, isCacheableMethod))?.entries[0]?.resultJson).toBe('"0x1"')
  })

  test('behavior: pending blocks, receipts and logs are dropped', async () => {
    const dir = await chainDir()
    const entry = (method: string, params: unknown, result: unknown) => [
      referenceKey(method, params),
      { data: response(1, { result }), accessed_at: 1 },
    ]
    const object = Object.fromEntries([
      entry('eth_getBlockByNumber', ['pending', false], { number: null, hash: null, transactions: [] }),
      entry('eth_getTransactionReceipt', ['0xdd'], { transactionHash: '0xdd', blockNumber: null }),
      entry('eth_getLogs', [{ fromBlock: '0x1', toBlock: '0x2' }], [{ logIndex: '0x0', blockNumber: null }]),
    ])
    await writeFile(join(dir, 'rpc.json'), JSON.stringify(object))
    expect(await readReferenceCache(dir, isCacheableMethod)).toEqual({
      source: join(dir, 'rpc.json'),
      entries: [],
      dropped: 3,
    })
  })

  test('behavior: nothing there gives undefined', async () => {
    const dir = await chainDir()
    await mkdir(join(dir, 'rpc_cache'))
    expect(await readReferenceCache(dir, isCacheableMethod)).toBeUndefined()
    expect(await readReferenceCache(join(root, 'no-such-chain'), isCacheableMethod)).toBeUndefined()
  })

  test('behavior: a garbage file rejects naming its path', async () => {
    const dir = await chainDir()
    const path = join(dir, 'rpc.json')
    await writeFile(path, '{"eth_chainId:1": {"data": ')
    await expect(readReferenceCache(dir, isCacheableMethod)).rejects.toThrow(path)
  })

  test('behavior: a JSON value that is not an object rejects naming its path', async () => {
    const dir = await chainDir()
    const path = join(dir, 'rpc.json')
    await writeFile(path, '[1, 2, 3]')
    await expect(readReferenceCache(dir, isCacheableMethod)).rejects.toThrow(path)
  })

  test('behavior: a missing slice rejects naming it', async () => {
    const dir = await chainDir()
    await writeSlices(join(dir, 'rpc_cache'), referenceBytes())
    const path = join(dir, 'rpc_cache', 'rpc.json.4')
    await rm(path)
    await expect(readReferenceCache(dir, isCacheableMethod)).rejects.toThrow(path)
  })
})
