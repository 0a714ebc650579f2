import { describe, expect, test } from 'bun:test'
import { MemoryCache } from '../../src/cache/memory.ts'

describe('MemoryCache', () => {
  test('default', () => {
    const cache = new MemoryCache({ maxItems: 10, maxBytes: 1 << 20 })
    cache.set('a', '"1"', 1)
    expect(cache.get('a', 2)).toMatchObject({ resultJson: '"1"', accessedAtMs: 2 })
    expect(cache.get('b', 2)).toBeUndefined()
  })

  test('behavior: the entry count is bounded; the least recently used goes first', () => {
    const cache = new MemoryCache({ maxItems: 3, maxBytes: 1 << 20 })
    for (const key of ['a', 'b', 'c']) cache.set(key, '1', 0)
    cache.get('a', 1)
    cache.set('d', '1', 2)
    expect(cache.size).toBe(3)
    expect(cache.get('b', 3)).toBeUndefined()
    expect(cache.get('a', 3)).toBeDefined()
    expect(cache.get('d', 3)).toBeDefined()
  })

  test('behavior: bytes are bounded with large answers; too large alone is not kept', () => {
    const cache = new MemoryCache({ maxItems: 1000, maxBytes: 100_000 })
    const big = `"${'x'.repeat(20_000)}"`
    for (let index = 0; index < 20; index++) cache.set(`k${index}`, big, index)
    expect(cache.bytes).toBeLessThanOrEqual(100_000)
    expect(cache.size).toBe(2)
    expect(cache.get('k19', 99)).toBeDefined()
    cache.set('huge', `"${'y'.repeat(60_000)}"`, 100)
    expect(cache.get('huge', 101)).toBeUndefined()
  })

  test('behavior: replacing a key keeps the byte account exact; deleteWhere and clear', () => {
    const cache = new MemoryCache({ maxItems: 10, maxBytes: 1 << 20 })
    cache.set('m:1', '"aaaa"', 0)
    const before = cache.bytes
    cache.set('m:1', '"aaaa"', 1)
    expect(cache.bytes).toBe(before)
    cache.set('n:1', '1', 1)
    expect(cache.deleteWhere((key) => key.startsWith('m:'))).toBe(1)
    expect(cache.size).toBe(1)
    cache.clear()
    expect([cache.size, cache.bytes]).toEqual([0, 0])
  })

  test('behavior: access range follows recency', () => {
    const cache = new MemoryCache({ maxItems: 10, maxBytes: 1 << 20 })
    cache.set('a', '1', 10)
    cache.set('b', '1', 20)
    cache.get('a', 30)
    expect(cache.accessRange()).toEqual({ oldestMs: 20, newestMs: 30 })
  })
})
