import { describe, expect, test } from 'bun:test'
import { admission, breakerFailure, breakerSuccess, createBreaker } from '../../src/providers/breaker.ts'

const options = { maxFailures: 3, baseCooldownMs: 1_000, maxCooldownMs: 4_000 }

describe('breaker', () => {
  test('default', () => {
    const breaker = createBreaker(options)
    expect(admission(breaker, 0)).toBe('yes')
  })

  test('behavior: closed → open after max consecutive failures; a success in between resets the count', () => {
    const breaker = createBreaker(options)
    breakerFailure(breaker, options, 0)
    breakerFailure(breaker, options, 0)
    breakerSuccess(breaker, options)
    breakerFailure(breaker, options, 0)
    breakerFailure(breaker, options, 0)
    expect(breaker.state).toBe('closed')
    breakerFailure(breaker, options, 10)
    expect([breaker.state, admission(breaker, 500)]).toEqual(['open', 'no'])
  })

  test('behavior: half-open after the cooldown allows one trial; success closes', () => {
    const breaker = createBreaker(options)
    for (let i = 0; i < 3; i++) breakerFailure(breaker, options, 0)
    expect(admission(breaker, 1_000)).toBe('trial')
    breaker.trialInFlight = true
    expect(admission(breaker, 1_001)).toBe('no')
    breakerSuccess(breaker, options)
    expect([breaker.state, breaker.consecutiveFailures, admission(breaker, 1_002)]).toEqual(['closed', 0, 'yes'])
  })

  test('behavior: a failed trial re-opens for twice as long, up to the ceiling', () => {
    const breaker = createBreaker(options)
    for (let i = 0; i < 3; i++) breakerFailure(breaker, options, 0)
    const cooldowns: number[] = []
    let at = 0
    for (let round = 0; round < 4; round++) {
      at += breaker.cooldownMs
      expect(admission(breaker, at)).toBe('trial')
      breakerFailure(breaker, options, at)
      cooldowns.push(breaker.cooldownMs)
    }
    expect(cooldowns).toEqual([2_000, 4_000, 4_000, 4_000])
  })
})
