import { describe, expect, test } from 'bun:test'
import { planCall } from '../../src/cache/policy.ts'
import { createSharedTier } from '../../src/cache/shared-tier.ts'
import type { RedisConnection } from '../../src/platform/index.ts'
import { waitFor } from '../helpers/wait.ts'

/** A connection whose GETs hang while `stalled` (a slow Redis), and that records what it was sent. */
function fakeRedis() {
  const state = { stalled: false, failing: false, sets: 0, closed: 0 }
  const connection: RedisConnection = {
    connect: async () => {},
    connected: true,
    getBytes: () =>
      state.failing
        ? Promise.reject(new Error('ERR broken'))
        : state.stalled
          ? new Promise(() => {})
          : Promise.resolve(null),
    set: async () => {
      state.sets += 1
    },
    send: async () => 'PONG',
    onLost: () => {},
    close: () => {
      state.closed += 1
    },
  }
  return { state, connection }
}

const plan = planCall('eth_getBlockByNumber', ['0x1', false])!

describe('the shared tier, on its own', () => {
  test('default', async () => {
    const redis = fakeRedis()
    const tier = createSharedTier({
      open: () => redis.connection,
      label: 'redis://x',
      secrets: [],
      prefix: 'edb:',
      chainId: 1,
      timeoutMs: 5,
      warn: () => {},
      info: () => {},
    })
    await waitFor(() => tier.status().state === 'up', 'up')
    expect(await tier.lookup(plan)).toBeUndefined()
    tier.stop()
  })

  test('behavior: slow lookups are misses, never an outage; three failing commands in a row take the tier out, said once; nothing queues while out', async () => {
    const redis = fakeRedis()
    const warnings: string[] = []
    const tier = createSharedTier({
      open: () => redis.connection,
      label: 'redis://x',
      secrets: [],
      prefix: 'edb:',
      chainId: 1,
      timeoutMs: 5,
      warn: (m) => warnings.push(m),
      info: () => {},
      retryMs: 60_000,
    })
    await waitFor(() => tier.status().state === 'up', 'up')
    // On a busy proxy the event loop alone can pass the 5 ms: a slow answer says nothing of Redis.
    redis.state.stalled = true
    for (let attempt = 0; attempt < 5; attempt++) expect(await tier.lookup(plan)).toBeUndefined()
    expect(tier.status()).toMatchObject({ state: 'up', errors: 0 })
    redis.state.stalled = false
    redis.state.failing = true
    await tier.lookup(plan)
    await tier.lookup(plan)
    expect(tier.status().state).toBe('up')
    await tier.lookup(plan)
    expect(tier.status()).toMatchObject({ state: 'down', errors: 3 })
    expect(warnings).toHaveLength(1)
    tier.put(plan, '{"number":"0x1"}')
    expect(tier.status().dropped).toBe(1)
    tier.stop()
  })
})
