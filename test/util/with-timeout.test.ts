import { describe, expect, test } from 'bun:test'
import { settleWithin, TimeoutError, withTimeout } from '../../src/util/with-timeout.ts'

const never = new Promise<never>(() => {})

describe('withTimeout', () => {
  test('default: the work’s value when it settles in time', async () => {
    expect(await withTimeout(Promise.resolve(7), 1_000)).toBe(7)
  })

  test("behavior: the work's own rejection passes through; none in time is a TimeoutError", async () => {
    await expect(withTimeout(Promise.reject(new RangeError('own')), 1_000)).rejects.toThrow(new RangeError('own'))
    const error = await withTimeout(never, 5).catch((caught: unknown) => caught)
    expect(error).toBeInstanceOf(TimeoutError)
    expect(error).toMatchObject({ name: 'TimeoutError', message: 'no answer within 5 ms' })
  })
})

describe('settleWithin', () => {
  test('default: resolves when the work settles, rejected or not, or once the time passed', async () => {
    expect(await settleWithin(Promise.resolve(1), 1_000)).toBeUndefined()
    expect(await settleWithin(Promise.reject(new Error('x')), 1_000)).toBeUndefined()
    expect(await settleWithin(never, 5)).toBeUndefined()
  })
})
