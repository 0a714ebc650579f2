import { describe, expect, test } from 'bun:test'
import { planCall } from '../src/cache/policy.ts'
import { createSharedTier } from '../src/cache/shared-tier.ts'
import type { RedisConnection } from '../src/platform/index.ts'
import { waitFor } from './helpers/wait.ts'

/** A connection whose GETs hang while `stalled` (a slow Redis), and that records what it was sent. */
function fakeRedis() {
  const state = { stalled: false, sets: 0, closed: 0 }
  const connection: RedisConnection = {
    connect: async () => {},
    connected: true,
    getBytes: () => (state.stalled ? new Promise(() => {}) : Promise.resolve(null)),
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

  test('behavior: one slow lookup is a miss, not an outage; three in a row take the tier out, said once; nothing queues while out', async () => {
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
    redis.state.stalled = true
    expect(await tier.lookup(plan)).toBeUndefined()
    expect(tier.status().state).toBe('up')
    redis.state.stalled = false
    expect(await tier.lookup(plan)).toBeUndefined()
    redis.state.stalled = true
    for (let attempt = 0; attempt < 3; attempt++) await tier.lookup(plan)
    expect(tier.status()).toMatchObject({ state: 'down', errors: 4 })
    expect(warnings).toHaveLength(1)
    tier.put(plan, '{"number":"0x1"}')
    expect(tier.status().dropped).toBe(1)
    tier.stop()
  })
})
