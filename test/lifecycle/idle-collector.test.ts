import { describe, expect, test } from 'bun:test'
import { createIdleCollector } from '../../src/lifecycle/idle-collector.ts'

function setup(minRequests = 10) {
  let served = 0
  let collections = 0
  const collector = createIdleCollector({ served: () => served, collect: () => collections++, minRequests })
  return { collector, serve: (n: number) => (served += n), collections: () => collections }
}

describe('idle collector', () => {
  test('default', () => {
    const { collector, serve, collections } = setup()
    serve(50)
    collector.check()
    expect(collections()).toBe(0)
    collector.check()
    expect(collections()).toBe(1)
  })

  test('behavior: never while requests flow', () => {
    const { collector, serve, collections } = setup()
    for (let look = 0; look < 20; look++) {
      serve(100)
      collector.check()
    }
    expect(collections()).toBe(0)
  })

  test('behavior: once per burst, and not for a trickle', () => {
    const { collector, serve, collections } = setup()
    serve(100)
    for (let look = 0; look < 5; look++) collector.check()
    expect(collections()).toBe(1)
    serve(3)
    for (let look = 0; look < 5; look++) collector.check()
    expect(collections()).toBe(1)
  })
})
