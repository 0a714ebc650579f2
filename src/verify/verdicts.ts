import type { AnswerCheck } from '../rpc/answer-check.ts'

/** `--verify-state` (SPEC §15). */
export type VerifyMode = 'when-possible' | 'required' | 'off'

/**
 * What a state answer came to: proven against the chain, or not provable (no proof to be had, no
 * trusted root). `refused`: every proof offered failed to verify (those providers struck); the
 * answer itself is unjudged, so it is handled as `none`: kept locally, never shared.
 */
export type Verified = 'proof' | 'none' | 'refused'

/** Answers by method: proven, not provable, failed their proof (SPEC §15, for `/metrics` and `edb_cache_stats`). */
export type VerificationCounts = Record<string, { verified: number; unverifiable: number; failed: number }>

/** One state answer being verified: the check the forwarder runs on each attempt's answer, and what it came to. */
export type Verifying = { check: AnswerCheck; readonly verified: Verified }
