import { describe, expect, test } from 'bun:test'
import { parseBody } from '../../src/rpc/parse.ts'

const parse = (text: string) => parseBody(text, { maxBatchSize: 3 })

describe('parseBody', () => {
  test('default', () => {
    expect(parse('{"jsonrpc":"2.0","id":1,"method":"eth_chainId","params":[]}')).toEqual({
      kind: 'single',
      entry: { call: { jsonrpc: '2.0', id: 1, method: 'eth_chainId', params: [] }, idJson: '1' },
    })
  })

  test('behavior: invalid JSON is -32700', () => {
    for (const text of ['{', '', 'nul', '{"a":1}x', '\u0000']) {
      const parsed = parse(text)
      expect(parsed.kind).toBe('invalid')
      if (parsed.kind === 'invalid') expect(parsed.error.code).toBe(-32700)
    }
  })

  test('behavior: empty and oversized batches are one -32600', () => {
    for (const text of ['[]', JSON.stringify([1, 2, 3, 4])]) {
      const parsed = parse(text)
      expect(parsed.kind).toBe('invalid')
      if (parsed.kind === 'invalid') expect(parsed.error.code).toBe(-32600)
    }
  })

  const invalidCalls: [string, unknown, unknown, string][] = [
    ['a number', 5, null, 'a call must be a JSON object'],
    ['null', null, null, 'a call must be a JSON object'],
    ['a string', 'x', null, 'a call must be a JSON object'],
    ['a nested array', [[]], null, 'a call must be a JSON object'],
    ['missing jsonrpc', { id: 1, method: 'm' }, 1, '"jsonrpc" must be exactly "2.0"'],
    ['jsonrpc 1.0', { jsonrpc: '1.0', id: 'a', method: 'm' }, 'a', '"jsonrpc" must be exactly "2.0"'],
    ['numeric jsonrpc', { jsonrpc: 2, id: 1, method: 'm' }, 1, '"jsonrpc" must be exactly "2.0"'],
    ['missing method', { jsonrpc: '2.0', id: 1 }, 1, '"method" must be a string'],
    ['numeric method', { jsonrpc: '2.0', id: 1, method: 7 }, 1, '"method" must be a string'],
    ['empty method', { jsonrpc: '2.0', id: 1, method: '' }, 1, '"method" must be 1 to 256 characters'],
    ['huge method', { jsonrpc: '2.0', id: 1, method: 'm'.repeat(300) }, 1, '"method" must be 1 to 256 characters'],
    ['string params', { jsonrpc: '2.0', id: 1, method: 'm', params: 'x' }, 1, '"params" must be an array or an object'],
    ['object id', { jsonrpc: '2.0', id: {}, method: 'm' }, null, '"id" must be a string, a number or null'],
    ['boolean id', { jsonrpc: '2.0', id: true, method: 'm' }, null, '"id" must be a string, a number or null'],
  ]
  for (const [name, call, id, message] of invalidCalls) {
    test(`behavior: ${name} is -32600 with the recoverable id`, () => {
      const parsed = parse(JSON.stringify([call]))
      expect(parsed.kind).toBe('batch')
      if (parsed.kind !== 'batch') return
      const entry = parsed.entries[0]!
      expect(entry.error?.code).toBe(-32600)
      expect(entry.error?.message).toBe(`Invalid request: ${message}`)
      expect(entry.call === undefined ? entry.idJson : 'valid').toEqual(JSON.stringify(id))
    })
  }

  test('behavior: object params and null ids are valid; notifications keep no id', () => {
    const parsed = parse('[{"jsonrpc":"2.0","id":null,"method":"m","params":{"a":1}},{"jsonrpc":"2.0","method":"n"}]')
    expect(parsed).toEqual({
      kind: 'batch',
      entries: [
        { call: { jsonrpc: '2.0', id: null, method: 'm', params: { a: 1 } }, idJson: 'null' },
        { call: { jsonrpc: '2.0', method: 'n' }, idJson: 'null' },
      ],
    })
  })

  test('behavior: "params": null is taken as absent (alloy sends it)', () => {
    expect(parse('{"jsonrpc":"2.0","id":7,"method":"anvil_nodeInfo","params":null}')).toEqual({
      kind: 'single',
      entry: { call: { jsonrpc: '2.0', id: 7, method: 'anvil_nodeInfo' }, idJson: '7' },
    })
  })

  test('behavior: ids JSON numbers cannot hold exactly keep their source text, in single calls, batches and errors', () => {
    const single = parse('{"jsonrpc":"2.0","id":9007199254741003,"method":"eth_chainId"}')
    expect(single.kind === 'single' && single.entry.idJson).toBe('9007199254741003')
    const batch = parse(
      '[{"jsonrpc":"2.0","id":1,"method":"a"},{"jsonrpc":"2.0","id":18446744073709551617,"method":"b"},{"jsonrpc":"1","id":1.50,"method":"c"}]',
    )
    expect(batch.kind === 'batch' && batch.entries.map((entry) => entry.idJson)).toEqual([
      '1',
      '18446744073709551617',
      '1.50',
    ])
  })

  test('behavior: every id comes back as written: 1.0, 1e2, escaped strings, a space after the colon', () => {
    const ids = ['1.0', '1e2', '"\\u0041"', '-0', '"a\\/b"']
    for (const id of ids) {
      const parsed = parse(`{"jsonrpc":"2.0","id":${id},"method":"eth_chainId"}`)
      expect({ id, echoed: parsed.kind === 'single' && parsed.entry.idJson }).toEqual({ id, echoed: id })
    }
    const spaced = parse('{"jsonrpc":"2.0","id": 7,"method":"eth_chainId"}')
    expect(spaced.kind === 'single' && spaced.entry.idJson).toBe('7')
  })
})

describe('params depth', () => {
  test('behavior: params nested deeper than the limit are -32600, shallower pass', () => {
    const deep = (levels: number) => `${'['.repeat(levels)}${']'.repeat(levels)}`
    const tooDeep = parse(`{"jsonrpc":"2.0","id":4,"method":"eth_call","params":${deep(100_000)}}`)
    expect(tooDeep.kind === 'single' && tooDeep.entry.error?.message).toBe(
      'Invalid request: "params" nested deeper than 64 levels',
    )
    expect(tooDeep.kind === 'single' && tooDeep.entry.call === undefined && tooDeep.entry.idJson).toBe('4')
    const fine = parse(`{"jsonrpc":"2.0","id":4,"method":"eth_call","params":${deep(64)}}`)
    expect(fine.kind === 'single' && fine.entry.error).toBeUndefined()
  })
})

describe('integers past 2^53 inside params', () => {
  test('behavior: they are kept as written, for the upstream and for the cache key', async () => {
    const { canonicalJson } = await import('../../src/cache/canonical-json.ts')
    const parsed = parse(
      '{"jsonrpc":"2.0","id":1,"method":"eth_call","params":[{"to":"0x1","value":123456789012345678901234567},"0x1"]}',
    )
    const call = parsed.kind === 'single' ? parsed.entry.call : undefined
    expect(JSON.stringify(call?.params)).toBe('[{"to":"0x1","value":123456789012345678901234567},"0x1"]')
    expect(canonicalJson(call?.params)).toBe('[{"to":"0x1","value":123456789012345678901234567},"0x1"]')
    // An object that merely looks like the kept form is another key.
    const lookalike = parse(
      '{"jsonrpc":"2.0","id":1,"method":"eth_call","params":[{"to":"0x1","value":{"rawJSON":"123456789012345678901234567"}},"0x1"]}',
    )
    expect(canonicalJson(lookalike.kind === 'single' ? lookalike.entry.call?.params : undefined)).not.toBe(
      canonicalJson(call?.params),
    )
  })
})

describe('the proxy’s own methods', () => {
  test('behavior: edb_* calls take params of any shape (their method judges them); other methods still need an array or object', () => {
    for (const params of ['eth_getBlockByNumber', 7, true]) {
      const parsed = parse(JSON.stringify({ jsonrpc: '2.0', id: 3, method: 'edb_deleteCache', params }))
      expect(parsed).toEqual({
        kind: 'single',
        entry: { call: { jsonrpc: '2.0', id: 3, method: 'edb_deleteCache', params }, idJson: '3' },
      })
    }
    const other = parse('{"jsonrpc":"2.0","id":3,"method":"eth_getBalance","params":"x"}')
    expect(other.kind === 'single' && other.entry.error?.message).toBe(
      'Invalid request: "params" must be an array or an object',
    )
  })
})

describe('ids found by one linear scan', () => {
  /** The slow but obvious oracle: every call-level id's source text, seen by JSON.parse itself. */
  const oracle = (text: string): string[] => {
    const sources = new WeakMap<object, string>()
    const json = JSON.parse(text, function (this: object, key: string, value: unknown, context?: { source?: string }) {
      if (key === 'id' && context?.source !== undefined) sources.set(this, context.source)
      return value
    } as (key: string, value: unknown) => unknown)
    const calls = Array.isArray(json) ? json : [json]
    return calls.map(
      (value) =>
        (value !== null && typeof value === 'object' && !Array.isArray(value) && sources.get(value)) ||
        JSON.stringify(value?.id ?? null),
    )
  }
  const idForms = [
    '1',
    '1.0',
    '-0',
    '1e2',
    '9007199254741003',
    '"a"',
    '"a\\"b"',
    '"\\\\"',
    '"\\u0041"',
    '"x\\\\\\"y"',
    'null',
    '""',
    '"id"',
  ]
  const memberForms = (id: string) => [`"id":${id}`, `"id" : ${id}`, `"\\u0069d":${id}`, `"id":{"id":5},"id":${id}`]
  const bodies: string[] = []
  for (const id of idForms) {
    for (const member of memberForms(id)) {
      const params = '"params":[{"id":123,"x":"\\"id\\":9"},[["id",1]],"}{"]'
      bodies.push(`{"jsonrpc":"2.0",${member},"method":"m",${params}}`)
      bodies.push(
        `[{"jsonrpc":"2.0",${params},"method":"m",${member}},["id",4],{"jsonrpc":"2.0","method":"n"},5,{"id":${id}}]`,
      )
    }
  }

  test('behavior: every call echoes the id text JSON.parse saw, whatever the forms around it', () => {
    for (const body of bodies) {
      const parsed = parseBody(body, { maxBatchSize: 10 })
      const echoed =
        parsed.kind === 'single'
          ? [parsed.entry.idJson]
          : parsed.kind === 'batch'
            ? parsed.entries.map((entry) => entry.idJson)
            : []
      const expected = oracle(body).map((id, index) => {
        const entry =
          parsed.kind === 'batch' ? parsed.entries[index] : parsed.kind === 'single' ? parsed.entry : undefined
        // An id that is not a string, number or null is answered as null; so are non-object entries.
        return entry?.call === undefined && !/^["\d-]/.test(id) ? 'null' : id
      })
      expect({ body, echoed }).toEqual({ body, echoed: expected })
    }
  })
})
