import { describe, expect, test } from 'bun:test'
import { createFinality } from '../src/cache/finality.ts'

function setup(answers: (number | undefined)[]) {
  let asked = 0
  const finality = createFinality({
    fetchFinalized: async () => answers[Math.min(asked++, answers.length - 1)],
    minRefreshMs: 20,
  })
  return { finality, asked: () => asked }
}

describe('createFinality', () => {
  test('default', async () => {
    const { finality, asked } = setup([100])
    expect(await finality.isFinal(50)).toBe(true)
    expect(finality.isFinal(100)).toBe(true)
    expect(asked()).toBe(1)
  })

  test('behavior: nothing is asked until a call needs it (no polling)', () => {
    const { asked } = setup([100])
    expect(asked()).toBe(0)
  })

  test('behavior: concurrent questions share one refresh; a later one waits for the next period', async () => {
    const { finality, asked } = setup([100, 120])
    const answers = await Promise.all([finality.isFinal(101), finality.isFinal(102), finality.isFinal(99)])
    expect(answers).toEqual([false, false, true])
    expect(asked()).toBe(1)
    expect(await finality.isFinal(110)).toBe(true)
    expect(asked()).toBe(2)
  })

  test('behavior: reset forgets the finalized block (a dev chain rewrote history)', async () => {
    const { finality } = setup([100, 10])
    await finality.isFinal(1)
    finality.reset()
    expect(finality.finalized).toBe(-1)
    expect(await finality.isFinal(50)).toBe(false)
  })

  test('behavior: a chain that cannot say keeps nothing final', async () => {
    const { finality } = setup([undefined])
    expect(await finality.isFinal(0)).toBe(false)
  })
})
