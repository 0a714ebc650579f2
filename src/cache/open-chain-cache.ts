import { join } from 'node:path'
import { pinOf } from '../rpc/methods.ts'
import type { Cache } from './cache.ts'
import { chainDirName } from './chain-names.ts'
import { readReferenceCache } from './reference-import.ts'
import { type DiskStore, type DiskStoreOptions, openDiskStore } from './store.ts'

export type ChainCacheOptions = {
  cache: Cache
  chainId: number
  /** A development chain gets a memory-only cache: its history is not worth keeping across runs. */
  devChain: boolean
  /** The cache root (`--cache-dir`), already expanded. */
  cacheDir: string
  maxItems: number
  openSqlite: DiskStoreOptions['openSqlite']
  info: (message: string) => void
  warn: (message: string) => void
}

/**
 * Start caching for the detected chain: open `<cache-dir>/rpc/<chain>/cache.sqlite` (or stay in
 * memory for development chains), then import a Rust reference cache found beside it, once.
 */
export async function openChainCache(options: ChainCacheOptions): Promise<DiskStore | undefined> {
  if (options.maxItems === 0) return undefined
  if (options.devChain) {
    options.cache.attach(undefined, 'development chain: not persisted')
    return undefined
  }
  const dir = join(options.cacheDir, 'rpc', chainDirName(options.chainId))
  const store = await openDiskStore({
    dir,
    maxItems: options.maxItems,
    openSqlite: options.openSqlite,
    warn: options.warn,
  })
  // Imported before the cache is attached: an imported entry is served from the first call (SPEC §5.1).
  await importReference(store, dir, options).catch((error: Error) =>
    options.warn(`reference cache not imported: ${error.message}`),
  )
  options.cache.attach(store)
  return store
}

async function importReference(store: DiskStore, dir: string, options: ChainCacheOptions): Promise<void> {
  const reference = await readReferenceCache(dir, (method) => pinOf(method) !== undefined)
  if (reference === undefined) return
  const signature = `${reference.source} (${reference.entries.length} entries)`
  if (store.importedFrom() === signature) return
  store.addImported(
    reference.entries.map((entry) => ({ ...entry, accessedAt: entry.accessedAt * 1000 })),
    signature,
  )
  options.info(
    `imported ${reference.entries.length} entries from the reference cache ${reference.source} (${reference.dropped} not cacheable, dropped)`,
  )
}
