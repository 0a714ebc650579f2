import { type CachePlan, verdictFor } from '../cache/policy.ts'
import type { ChainView } from '../chain/head-tracker.ts'

/**
 * Whether an answer can never change (SPEC §5.1), decided against the chain's synchronous view
 * before anyone else may see it. A transaction-addressed answer is final once its block is:
 * `txBlock` learns that block (asked alongside the answer when the answer itself does not say).
 */
export function isFinalAnswer(
  plan: CachePlan,
  resultJson: string,
  view: ChainView,
  txBlock: (hash: string) => Promise<number | undefined>,
): boolean | Promise<boolean> {
  const verdict = verdictFor(plan, resultJson)
  if (verdict.kind === 'store') return true
  if (verdict.kind === 'when-final') return view.isFinal(verdict.block)
  if (verdict.kind === 'skip') return false
  return txBlock(verdict.hash).then((block) => block !== undefined && view.isFinal(block))
}
