import type { AnswerCheck } from '../rpc/answer-check.ts'
import { methodInfo, pinOf } from '../rpc/methods.ts'
import { parseQuantity } from '../rpc/quantity.ts'
import { rawTransactionHash } from '../rpc/raw-transaction.ts'
import { headerMismatch } from '../verify/header-hash.ts'
import { type BlockRef, toBlockRef } from './block-ref.ts'
import type { CachePlan } from './policy.ts'

type Named = Record<string, unknown>

const NOW: BlockRef = { kind: 'now' }

/** Whether `value` names the block `ref`: its number, or its hash (in the fields given). */
function namesBlock(value: Named, ref: BlockRef, numberField: string, hashField: string): boolean {
  if (ref.kind === 'number') return parseQuantity(value[numberField]) === ref.number
  if (ref.kind === 'hash')
    return typeof value[hashField] === 'string' && (value[hashField] as string).toLowerCase() === ref.hash
  return true
}

const sameHash = (value: unknown, hash: string) => typeof value === 'string' && value.toLowerCase() === hash
const isObject = (value: unknown): value is Named =>
  value !== null && typeof value === 'object' && !Array.isArray(value)

/**
 * The check an answer to `plan` must pass before it is stored (SPEC §8): a block by number or hash
 * carries that number or hash; a transaction or receipt, its hash; a transaction in a block, that
 * block; block receipts and logs, their block (by hash) or a block inside the range asked. `null`
 * passes (it is never stored). Methods whose answers name nothing checkable get no check.
 */
export function answerCheck(plan: CachePlan): AnswerCheck | undefined {
  const pin = pinOf(plan.method)
  const blockRef: BlockRef =
    pin?.kind === 'block' || pin?.kind === 'block-hash' ? toBlockRef(plan.params[pin.index]) : NOW
  switch (methodInfo(plan.method).check) {
    case 'block':
      return (value) => {
        if (value === null) return undefined
        if (!isObject(value) || !namesBlock(value, blockRef, 'number', 'hash')) return 'another block'
        // SPEC §15: its hash must be its header's (a layout not known here is counted, not guessed).
        return headerMismatch(value)
      }
    case 'tx-in-block':
      return (value) =>
        value === null ||
        (isObject(value) &&
          namesBlock(value, blockRef, 'blockNumber', 'blockHash') &&
          parseQuantity(value.transactionIndex) === parseQuantity(plan.params[1]))
          ? undefined
          : 'a transaction from another block or index'
    case 'block-receipts':
      return (value) =>
        value === null ||
        (Array.isArray(value) &&
          value.every((receipt) => isObject(receipt) && namesBlock(receipt, blockRef, 'blockNumber', 'blockHash')))
          ? undefined
          : 'receipts of another block'
    case 'tx':
      return (value) =>
        value === null || (isObject(value) && sameHash(value.hash, hashParam(plan))) ? undefined : 'another transaction'
    case 'receipt':
      return (value) =>
        value === null || (isObject(value) && sameHash(value.transactionHash, hashParam(plan)))
          ? undefined
          : 'the receipt of another transaction'
    case 'raw-tx':
      return (value) =>
        value === null || rawTransactionHash(value) === hashParam(plan) ? undefined : 'another raw transaction'
    case 'logs':
      return logsCheck(plan)
    default:
      return undefined
  }
}

function hashParam(plan: CachePlan): string {
  return String(plan.params[0]).toLowerCase()
}

function logsCheck(plan: CachePlan): AnswerCheck {
  const filter = plan.params[0] as Named
  if (typeof filter.blockHash === 'string') {
    const hash = filter.blockHash
    return (value) =>
      Array.isArray(value) && value.every((log) => isObject(log) && sameHash(log.blockHash, hash))
        ? undefined
        : 'logs of another block'
  }
  const from = parseQuantity(filter.fromBlock) ?? 0
  const to = parseQuantity(filter.toBlock) ?? Number.POSITIVE_INFINITY
  return (value) =>
    Array.isArray(value) &&
    value.every((log) => {
      const block = isObject(log) ? parseQuantity(log.blockNumber) : undefined
      return block !== undefined && block >= from && block <= to
    })
      ? undefined
      : 'logs outside the range asked'
}
