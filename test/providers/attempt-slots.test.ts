import { describe, expect, test } from 'bun:test'
import { createAttemptSlots, QueueFullError } from '../../src/providers/attempt-slots.ts'

describe('attempt slots', () => {
  test('default', () => {
    const slots = createAttemptSlots({ concurrency: 2, queue: 1 })
    expect([slots.acquire(), slots.acquire(), slots.inFlight, slots.hasRoom]).toEqual([true, true, 2, false])
  })

  test('behavior: beyond the bound callers wait in order and each release hands the slot to the longest waiting', async () => {
    const slots = createAttemptSlots({ concurrency: 1, queue: 3 })
    expect(slots.acquire()).toBe(true)
    const order: string[] = []
    const waits = ['a', 'b', 'c'].map((name) => (slots.acquire() as Promise<void>).then(() => order.push(name)))
    expect([slots.inFlight, slots.waiting]).toEqual([1, 3])
    for (let round = 0; round < 3; round++) {
      slots.release()
      await waits[round]
    }
    expect(order).toEqual(['a', 'b', 'c'])
    expect([slots.inFlight, slots.waiting]).toEqual([1, 0])
    slots.release()
    expect([slots.inFlight, slots.hasRoom]).toEqual([0, true])
  })

  test('behavior: a full queue refuses at once with QueueFullError; nothing else changes', async () => {
    const slots = createAttemptSlots({ concurrency: 1, queue: 1 })
    slots.acquire()
    const waiting = slots.acquire()
    await expect(slots.acquire()).rejects.toBeInstanceOf(QueueFullError)
    expect([slots.inFlight, slots.waiting]).toEqual([1, 1])
    slots.release()
    await waiting
    expect(slots.inFlight).toBe(1)
  })

  test('behavior: a waiter whose call is aborted leaves the queue, and the slot goes to the next', async () => {
    const slots = createAttemptSlots({ concurrency: 1, queue: 2 })
    slots.acquire()
    const controller = new AbortController()
    const abandoned = slots.acquire(controller.signal)
    const next = slots.acquire()
    controller.abort(new Error('answered elsewhere'))
    await expect(abandoned).rejects.toThrow('answered elsewhere')
    expect(slots.waiting).toBe(1)
    slots.release()
    await next
    expect([slots.inFlight, slots.waiting]).toEqual([1, 0])
  })

  test('behavior: with a queue of 0 the first caller beyond the bound is refused', async () => {
    const slots = createAttemptSlots({ concurrency: 1, queue: 0 })
    slots.acquire()
    await expect(slots.acquire()).rejects.toBeInstanceOf(QueueFullError)
  })
})
