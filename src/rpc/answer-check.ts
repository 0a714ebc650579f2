/** An `AnswerCheck` verdict: this provider does not have it yet (SPEC §12: a provider behind never fills a gap). */
export const NOT_HERE = Symbol('not here')

/**
 * Whether a result answers the question asked: undefined when it does, else what is wrong. A result
 * that does not is a provider fault (a strike, failover), never an answer (SPEC §8). `NOT_HERE`
 * says the provider lacks what was asked (it is behind): tried elsewhere, never a strike.
 */
export type AnswerCheck = (value: unknown) => string | typeof NOT_HERE | undefined
