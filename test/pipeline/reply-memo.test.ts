import { describe, expect, test } from 'bun:test'
import { createReplyMemo } from '../../src/cache/reply-memo.ts'

const entry = (reply: string) => ({ method: 'm', key: 'k', resultJson: '1', reply })

describe('createReplyMemo', () => {
  test('default', () => {
    const memo = createReplyMemo({ maxEntries: 2, maxBytes: 1 << 20 })
    memo.remember('body', entry('reply'))
    expect(memo.get('body')?.reply).toBe('reply')
  })

  test('behavior: bounded by count, oldest first', () => {
    const memo = createReplyMemo({ maxEntries: 2, maxBytes: 1 << 20 })
    for (const body of ['a', 'b', 'c']) memo.remember(body, entry(body))
    expect([memo.get('a'), memo.get('b')?.reply, memo.get('c')?.reply]).toEqual([undefined, 'b', 'c'])
  })

  test('behavior: bounded by bytes; a reply too large for the memo is not kept', () => {
    const memo = createReplyMemo({ maxEntries: 1000, maxBytes: 64 * 1024 })
    memo.remember('huge', entry('x'.repeat(2_000)))
    expect(memo.get('huge')).toBeUndefined()
    for (let index = 0; index < 100; index++) memo.remember(`b${index}`, entry('y'.repeat(400)))
    expect(memo.size).toBeLessThan(100)
    expect(memo.get('b99')).toBeDefined()
  })
})
