import type { CallContext } from '../rpc/context.ts'

/** What a rule may look at: the request's headers and, asked only when needed, the peer address. */
export type RequestFacts = { headers: Headers; address(): string | undefined }

/** A request refused before any call is read. */
export type Refusal = { status: number; message: string }

/** A rule that may refuse the whole request (run for every request, in order, cheap). */
export type RefusalRule = (facts: RequestFacts) => Refusal | undefined

/** A rule that says something about the caller (run only when a call needs the context). */
export type ContextRule = (facts: RequestFacts, context: CallContext) => void
