import { describe, expect, test } from 'bun:test'
import { createPrefetchProgress } from '../../src/prefetch/prefetch-progress.ts'

/** Whether `promise` has settled after the microtasks queued so far. */
async function settled(promise: Promise<void>): Promise<boolean> {
  let done = false
  void promise.then(() => {
    done = true
  })
  await Bun.sleep(0)
  return done
}

describe('prefetch progress (SPEC §14, a read waits for its own part)', () => {
  test('a read of a settled key goes on; the others wait', async () => {
    const progress = createPrefetchProgress()
    const first = progress.until(['balance:a'])
    const later = progress.until(['balance:b'])
    progress.settled(['balance:a'])
    expect({ first: await settled(first), later: await settled(later) }).toEqual({ first: true, later: false })
    progress.settled(['balance:b'])
    expect(await settled(later)).toBe(true)
  })

  test('a read of several keys (a composed answer) waits for all of them', async () => {
    const progress = createPrefetchProgress()
    const both = progress.until(['balance:a', 'code:a'])
    progress.settled(['balance:a'])
    expect(await settled(both)).toBe(false)
    progress.settled(['code:a'])
    expect(await settled(both)).toBe(true)
  })

  test('a key no part holds, and a read without keys, wait for the end', async () => {
    const progress = createPrefetchProgress()
    const missing = progress.until(['slot:z'])
    const whole = progress.until(undefined)
    progress.settled(['balance:a'])
    expect({ missing: await settled(missing), whole: await settled(whole) }).toEqual({ missing: false, whole: false })
    progress.end()
    expect({ missing: await settled(missing), whole: await settled(whole) }).toEqual({ missing: true, whole: true })
    expect(await settled(progress.until(['anything']))).toBe(true)
  })
})
