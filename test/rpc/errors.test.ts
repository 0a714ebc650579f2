import { describe, expect, test } from 'bun:test'
import {
  BodyTooLargeError,
  ForbiddenError,
  InternalError,
  InvalidParamsError,
  InvalidRequestError,
  LimitExceededError,
  MethodNotFoundError,
  ParseError,
  ProvidersUnavailableError,
  ServerError,
  toErrorObject,
} from '../../src/rpc/errors.ts'

describe('toErrorObject', () => {
  test('default', () => {
    expect(toErrorObject(new MethodNotFoundError('foo_bar'))).toEqual({
      code: -32601,
      message: 'Method not found: foo_bar',
    })
  })

  const table: [unknown, number][] = [
    [new ParseError(), -32700],
    [new InvalidRequestError('x'), -32600],
    [new BodyTooLargeError(10), -32600],
    [new MethodNotFoundError('m'), -32601],
    [new InvalidParamsError('p'), -32602],
    [new InternalError(), -32603],
    [new ServerError('s'), -32000],
    [new ProvidersUnavailableError('u', []), -32002],
    [new LimitExceededError('l'), -32005],
    [new ForbiddenError('f'), -32010],
  ]
  for (const [error, code] of table) {
    test(`behavior: ${(error as Error).name} answers ${code}, its class's static code`, () => {
      expect(toErrorObject(error).code).toBe(code)
      expect((error as { constructor: { code: number } }).constructor.code).toBe(code)
    })
  }

  test('behavior: data travels when present; an unexpected exception leaks nothing', () => {
    expect(
      toErrorObject(new ProvidersUnavailableError('none', [{ provider: 'p', failure: 'timeout', message: 'm' }])),
    ).toEqual({
      code: -32002,
      message: 'none',
      data: { attempts: [{ provider: 'p', failure: 'timeout', message: 'm' }] },
    })
    expect(toErrorObject(new Error('secret at https://key@host/'))).toEqual({ code: -32603, message: 'Internal error' })
  })
})
