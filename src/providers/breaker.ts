/** A provider's circuit: closed (in use), open (resting after failures), half-open (one trial call). */
export type CircuitState = 'closed' | 'open' | 'half-open'

export type Breaker = {
  state: CircuitState
  consecutiveFailures: number
  /** When the circuit last opened (ms). */
  openedAtMs: number
  /** How long it rests before a trial; doubles on a failed trial, up to a ceiling. */
  cooldownMs: number
  /** A half-open trial is in flight. */
  trialInFlight: boolean
}

export type BreakerOptions = { maxFailures: number; baseCooldownMs: number; maxCooldownMs: number }

export function createBreaker(options: BreakerOptions): Breaker {
  return {
    state: 'closed',
    consecutiveFailures: 0,
    openedAtMs: 0,
    cooldownMs: options.baseCooldownMs,
    trialInFlight: false,
  }
}

/** Whether a call may use the provider now: freely, as the one half-open trial, or not (open). */
export function admission(breaker: Breaker, nowMs: number): 'yes' | 'trial' | 'no' {
  if (breaker.state === 'closed') return 'yes'
  if (breaker.state === 'open' && nowMs - breaker.openedAtMs >= breaker.cooldownMs) breaker.state = 'half-open'
  if (breaker.state === 'half-open' && !breaker.trialInFlight) return 'trial'
  return 'no'
}

/** A success closes the circuit and resets its cooldown. */
export function breakerSuccess(breaker: Breaker, options: BreakerOptions): void {
  breaker.state = 'closed'
  breaker.consecutiveFailures = 0
  breaker.cooldownMs = options.baseCooldownMs
  breaker.trialInFlight = false
}

/** A failure: `maxFailures` in a row open the circuit; a failed trial re-opens it for longer. */
export function breakerFailure(breaker: Breaker, options: BreakerOptions, nowMs: number): void {
  breaker.consecutiveFailures += 1
  const failedTrial = breaker.state === 'half-open'
  breaker.trialInFlight = false
  if (failedTrial) breaker.cooldownMs = Math.min(breaker.cooldownMs * 2, options.maxCooldownMs)
  if (failedTrial || breaker.consecutiveFailures >= options.maxFailures) {
    breaker.state = 'open'
    breaker.openedAtMs = nowMs
  }
}
