import { describe, expect, test } from 'bun:test'
import { accountInfoParts, composeAccountInfo } from '../../src/cache/account-info.ts'
import { planCall } from '../../src/cache/policy.ts'

const ADDRESS = '0xf39Fd6e51aad88F6F4ce6aB8827279cffFb92266'
const params = [ADDRESS, '0x01']
const plan = planCall('eth_getAccountInfo', params)!

describe('account info parts', () => {
  test('default', () => {
    const parts = accountInfoParts(plan, params, '{"balance":"0x10","nonce":"0x2","code":"0x6000"}')
    expect(parts.map(([part, resultJson]) => [part.key, resultJson])).toEqual([
      [planCall('eth_getBalance', [ADDRESS, '0x1'])!.key, '"0x10"'],
      [planCall('eth_getTransactionCount', [ADDRESS, '0x1'])!.key, '"0x2"'],
      [planCall('eth_getCode', [ADDRESS, '0x1'])!.key, '"0x6000"'],
    ])
  })

  test('behavior: an answer missing a field, or not an object, gives no parts', () => {
    for (const answer of [
      '{"balance":"0x10","nonce":"0x2"}',
      '{"balance":1,"nonce":"0x2","code":"0x"}',
      '"0x1"',
      'null',
      '[]',
    ]) {
      expect(accountInfoParts(plan, params, answer)).toEqual([])
    }
    expect(
      accountInfoParts(planCall('eth_getBalance', params)!, params, '{"balance":"0x1","nonce":"0x1","code":"0x"}'),
    ).toEqual([])
  })

  test('behavior: the three cached parts compose the info; one missing composes nothing', () => {
    const cached = new Map(
      accountInfoParts(plan, params, '{"balance":"0x10","nonce":"0x2","code":"0x6000"}').map(([part, json]) => [
        part.key,
        json,
      ]),
    )
    const lookup = (part: { key: string }) => cached.get(part.key)
    expect(composeAccountInfo(plan, [ADDRESS, '0x1'], lookup)).toBe('{"balance":"0x10","nonce":"0x2","code":"0x6000"}')
    cached.delete(planCall('eth_getCode', params)!.key)
    expect(composeAccountInfo(plan, params, lookup)).toBeUndefined()
  })
})
