/** Moved to `with-timeout.ts` (one timeout helper); this path stays until the pipeline imports it from there. */
export { settleWithin } from './with-timeout.ts'
