/** An `AnswerCheck` verdict: this provider does not have it yet (SPEC §12: a provider behind never fills a gap). */
export const NOT_HERE = Symbol('not here')

/**
 * Whether a result answers the question asked: undefined when it does, else what is wrong. A result
 * that does not is a provider fault (a strike, failover), never an answer (SPEC §8). `NOT_HERE`
 * says the provider lacks what was asked (it is behind): tried elsewhere, never a strike. A check
 * may take time (a state answer waits for its proof, SPEC §15): it then answers with a promise.
 */
export type AnswerCheck = (
  value: unknown,
) => string | typeof NOT_HERE | undefined | Promise<string | typeof NOT_HERE | undefined>

/** Both checks, in order: the first that finds something wrong says what. */
export function bothChecks(first: AnswerCheck | undefined, second: AnswerCheck | undefined): AnswerCheck | undefined {
  if (first === undefined || second === undefined) return first ?? second
  return (value) => {
    const verdict = first(value)
    if (verdict instanceof Promise) return verdict.then((found) => (found === undefined ? second(value) : found))
    return verdict === undefined ? second(value) : verdict
  }
}
