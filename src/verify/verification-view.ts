import { percent } from '../util/percent.ts'
import { headerLayouts } from './header-hash.ts'
import type { StateVerifier } from './state-verifier.ts'

/**
 * What `edb_cache_stats.verification` shows (SPEC §15): the mode, answers by method (proven, not
 * provable, failed their proof), the share of stored state that was proven, and block headers of a
 * layout not known here.
 */
export function verificationView(verifier: StateVerifier) {
  const methods = verifier.counts()
  let verified = 0
  let unverifiable = 0
  let failed = 0
  for (const counts of Object.values(methods)) {
    verified += counts.verified
    unverifiable += counts.unverifiable
    failed += counts.failed
  }
  return {
    mode: verifier.mode,
    verified,
    unverifiable,
    failed,
    share_verified: percent(verified, verified + unverifiable),
    unknown_header_layouts: headerLayouts.unknown,
    methods,
  }
}
