import { readdir, readFile } from 'node:fs/promises'
import { join } from 'node:path'

/** One entry of a Rust reference cache that may be served again. */
export type ImportedEntry = {
  /** The reference key as found (`<method>:<hex siphash>`). */
  key: string
  /** The part of the key before the first ':'. */
  method: string
  /** `data.result` as JSON text. */
  resultJson: string
  /** Unix seconds of the last access recorded by the reference. */
  accessedAt: number
}

/** What was read from a Rust reference cache directory. */
export type ReferenceCache = {
  /** The path of what was read, for logs. */
  source: string
  entries: ImportedEntry[]
  /** Entries left out: errors, null or pending results, uncacheable methods, malformed entries. */
  dropped: number
}

type Found = { source: string; bytes: Uint8Array }

const SLICE = /^rpc\.json\.(\d+)$/
const KEY = /^([^:]+):[0-9a-f]{1,16}$/

/**
 * Read a Rust reference cache from its chain directory (SPEC Appendix A): `rpc_cache/rpc.json.N`
 * slices, else `rpc.json`, else `rpc.json.N` slices in the directory; undefined when none exists.
 */
export async function readReferenceCache(
  chainDir: string,
  isCacheableMethod: (method: string) => boolean,
): Promise<ReferenceCache | undefined> {
  const found =
    (await readSlices(join(chainDir, 'rpc_cache'))) ??
    (await readWhole(join(chainDir, 'rpc.json'))) ??
    (await readSlices(chainDir))
  if (found === undefined) return undefined
  const object = parseCache(found)
  const entries: ImportedEntry[] = []
  let dropped = 0
  for (const [key, value] of Object.entries(object)) {
    const entry = toEntry(key, value, isCacheableMethod)
    if (entry === undefined) dropped++
    else entries.push(entry)
  }
  return { source: found.source, entries, dropped }
}

/** Concatenate `rpc.json.1..N` in numeric order (`.10` after `.9`); the slices split bytes, not characters. */
async function readSlices(dir: string): Promise<Found | undefined> {
  let names: string[]
  try {
    names = await readdir(dir)
  } catch (error) {
    if (isMissing(error)) return undefined
    throw new Error(`cannot read reference cache directory ${dir}: ${messageOf(error)}`, { cause: error })
  }
  const numbers = names
    .map((name) => SLICE.exec(name)?.[1])
    .filter((n): n is string => n !== undefined)
    .map(Number)
    .sort((a, b) => a - b)
  if (numbers.length === 0) return undefined
  const base = join(dir, 'rpc.json')
  const source = `${base}.{1..${numbers.length}}`
  const missing = numbers.findIndex((n, i) => n !== i + 1)
  if (missing !== -1) throw new Error(`reference cache ${source} is incomplete: ${base}.${missing + 1} is missing`)
  const parts: Uint8Array[] = []
  for (const n of numbers) parts.push(await readBytes(`${base}.${n}`))
  return { source, bytes: concat(parts) }
}

async function readWhole(path: string): Promise<Found | undefined> {
  try {
    return { source: path, bytes: await readFile(path) }
  } catch (error) {
    if (isMissing(error)) return undefined
    throw new Error(`cannot read reference cache ${path}: ${messageOf(error)}`, { cause: error })
  }
}

async function readBytes(path: string): Promise<Uint8Array> {
  try {
    return await readFile(path)
  } catch (error) {
    throw new Error(`cannot read reference cache ${path}: ${messageOf(error)}`, { cause: error })
  }
}

function parseCache({ source, bytes }: Found): Record<string, unknown> {
  let parsed: unknown
  try {
    parsed = JSON.parse(new TextDecoder('utf-8', { fatal: true }).decode(bytes))
  } catch (error) {
    throw new Error(`cannot parse reference cache ${source}: ${messageOf(error)}`, { cause: error })
  }
  if (!isObject(parsed)) throw new Error(`cannot parse reference cache ${source}: not a JSON object`)
  return parsed
}

/** SPEC §5.1 applied to imports: errors, null and pending results, and uncacheable methods are not kept. */
function toEntry(
  key: string,
  value: unknown,
  isCacheableMethod: (method: string) => boolean,
): ImportedEntry | undefined {
  const method = KEY.exec(key)?.[1]
  if (method === undefined || !isCacheableMethod(method)) return undefined
  if (!isObject(value) || !isObject(value.data)) return undefined
  const { data, accessed_at: accessedAt } = value
  if (typeof accessedAt !== 'number' || !Number.isFinite(accessedAt) || accessedAt < 0) return undefined
  if (data.error !== undefined && data.error !== null) return undefined
  if (data.result === undefined || data.result === null || isPending(data.result)) return undefined
  return { key, method, resultJson: JSON.stringify(data.result), accessedAt }
}

/** A transaction, receipt or log not yet in a block (`blockNumber: null`), a pending block, or a list holding one. */
function isPending(result: unknown): boolean {
  if (Array.isArray(result)) return result.some(isPending)
  if (!isObject(result)) return false
  if ('blockNumber' in result && result.blockNumber === null) return true
  return Array.isArray(result.transactions) && (result.hash === null || result.number === null)
}

function concat(parts: Uint8Array[]): Uint8Array {
  const out = new Uint8Array(parts.reduce((sum, part) => sum + part.length, 0))
  let offset = 0
  for (const part of parts) {
    out.set(part, offset)
    offset += part.length
  }
  return out
}

function isObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value)
}

function isMissing(error: unknown): boolean {
  const code = (error as { code?: unknown } | null)?.code
  return code === 'ENOENT' || code === 'ENOTDIR'
}

function messageOf(error: unknown): string {
  return error instanceof Error ? error.message : String(error)
}
