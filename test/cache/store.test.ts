import { afterEach, describe, expect, test } from 'bun:test'
import { mkdtempSync, readdirSync, rmSync, statSync, truncateSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { type DiskStore, openDiskStore } from '../../src/cache/store.ts'
import { platform } from '../../src/platform/index.ts'
import { waitFor } from '../helpers/wait.ts'

const opened: DiskStore[] = []
const dirs: string[] = []
afterEach(() => {
  for (const store of opened.splice(0)) store.close()
  for (const dir of dirs.splice(0)) rmSync(dir, { recursive: true, force: true })
})

function tempDir() {
  const dir = mkdtempSync(join(tmpdir(), 'edb-store-'))
  dirs.push(dir)
  return dir
}

async function open(dir: string, maxItems = 100, warnings: string[] = [], now?: () => number) {
  const store = await openDiskStore({
    dir,
    maxItems,
    openSqlite: platform.openSqlite,
    warn: (message) => warnings.push(message),
    now,
  })
  opened.push(store)
  return store
}

describe('openDiskStore', () => {
  test('default', async () => {
    const dir = tempDir()
    const store = await open(dir)
    store.put('eth_chainId:[]', 'eth_chainId', '"0x1"')
    expect(store.get('eth_chainId:[]')).toBe('"0x1"')
    store.flush()
    expect(store.count()).toBe(1)
    expect(store.path).toBe(join(dir, 'cache.sqlite'))
  })

  test('behavior: what one process flushed, another process opening the same directory reads', async () => {
    const dir = tempDir()
    const writer = await open(dir)
    const reader = await open(dir)
    writer.put('k', 'm', '"v"')
    expect(reader.get('k')).toBeUndefined()
    writer.flush()
    expect(reader.get('k')).toBe('"v"')
  })

  test('behavior: the whole store is bounded; least recently used rows go first', async () => {
    let clock = 1_000
    const store = await open(tempDir(), 10, [], () => clock++)
    for (let index = 0; index < 25; index++) {
      store.put(`k${index}`, 'm', `${index}`)
      if (index === 3) store.touch('k0')
      store.flush()
    }
    expect(store.count()).toBe(10)
    expect(store.get('k24')).toBe('24')
    expect(store.get('k1')).toBeUndefined()
  })

  test('behavior: delete by key and by method, and clear', async () => {
    const store = await open(tempDir())
    store.put('a:1', 'a', '1')
    store.put('a:2', 'a', '2')
    store.put('b:1', 'b', '3')
    store.flush()
    expect(store.deleteKey('a:1')).toBe(1)
    expect(store.deleteMethod('a')).toBe(1)
    expect(store.get('b:1')).toBe('3')
    store.clear()
    expect(store.count()).toBe(0)
  })

  const corruptions: [string, (path: string) => void][] = [
    ['garbage', (path) => writeFileSync(path, 'this is not a database at all, not even close '.repeat(200))],
    ['a truncated file', (path) => truncateSync(path, Math.floor(statSync(path).size / 3))],
  ]
  for (const [name, corrupt] of corruptions) {
    test(`behavior: ${name} is moved aside with a warning naming both paths, and a fresh store opens`, async () => {
      const dir = tempDir()
      const first = await open(dir)
      for (let index = 0; index < 2_000; index++) first.put(`key-${index}`, 'm', JSON.stringify('x'.repeat(200)))
      first.close()
      opened.splice(opened.indexOf(first), 1)
      corrupt(join(dir, 'cache.sqlite'))
      const warnings: string[] = []
      const store = await open(dir, 100, warnings)
      // a truncated file may open and fail on first use: that is moved aside too
      store.get('key-1999')
      store.put('fresh', 'm', '1')
      store.flush()
      await waitFor(() => warnings.length > 0, 'the corruption warning')
      expect(warnings).toHaveLength(1)
      expect(warnings[0]).toContain('corrupt')
      expect(warnings[0]).toContain(join(dir, 'cache.sqlite'))
      const aside = readdirSync(dir).find((file) => file.startsWith('cache.sqlite.corrupt-'))
      expect(aside).toBeDefined()
      expect(warnings[0]).toContain(join(dir, aside!))
    })
  }
})
