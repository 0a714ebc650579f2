import { describe, expect, test } from 'bun:test'
import { createAccessChain } from '../../src/access/chain.ts'

const facts = (headers: Record<string, string>, address?: string) => ({
  headers: new Headers(headers),
  address: () => address,
})

describe('the filter chain', () => {
  test('default', () => {
    const chain = createAccessChain({ loopbackBound: true })
    expect(chain.refusalOf(facts({ host: '127.0.0.1:8546' }))).toBeUndefined()
    expect(chain.contextOf(facts({}, '127.0.0.1'))).toEqual({ loopback: true, client: 'ip:127.0.0.1' })
  })

  test('behavior: filters run in order: the Host rule refuses before the token is even looked at', () => {
    const chain = createAccessChain({ loopbackBound: true, authToken: 'token-0123' })
    expect(chain.refusalOf(facts({ host: 'evil.example' }))?.status).toBe(403)
    expect(chain.refusalOf(facts({ host: 'localhost' }))?.status).toBe(401)
    expect(chain.refusalOf(facts({ host: 'localhost', authorization: 'Bearer token-0123' }))).toBeUndefined()
  })

  test('behavior: identity names a named token, the admin token, else the address; browser rules describe what a page may do', () => {
    const chain = createAccessChain({
      loopbackBound: false,
      adminToken: 'admin-0123',
      namedTokens: [['alice', 'alice-0123']],
      originAllowed: (origin) => origin === 'http://localhost:3000',
    })
    expect(chain.contextOf(facts({ authorization: 'Bearer alice-0123' }, '10.0.0.7'))).toMatchObject({
      client: 'alice',
      loopback: false,
      adminDenied: 'the admin token is required (Authorization: Bearer <admin token>)',
    })
    const admin = chain.contextOf(facts({ authorization: 'Bearer admin-0123' }, '::ffff:127.0.0.1'))
    expect(admin).toEqual({ client: 'admin-token', loopback: true })
    const page = chain.contextOf(facts({ origin: 'https://evil.example', authorization: 'Bearer admin-0123' }))
    expect(page.adminDenied).toContain('not allowed from a browser')
    expect(page.originDenied).toContain('"https://evil.example"')
    expect(chain.contextOf(facts({ origin: 'http://localhost:3000' })).originDenied).toBeUndefined()
  })

  test("behavior: a token sent as Basic auth's password names its client like a Bearer token; a malformed one names nobody", () => {
    const chain = createAccessChain({
      loopbackBound: false,
      adminToken: 'admin-0123',
      namedTokens: [['alice', 'alice-0123']],
    })
    const basic = (credentials: string) => ({ authorization: `Basic ${btoa(credentials)}` })
    expect(chain.refusalOf(facts(basic('anyone:alice-0123')))).toBeUndefined()
    expect(chain.contextOf(facts(basic('anyone:alice-0123'), '10.0.0.7')).client).toBe('alice')
    expect(chain.contextOf(facts(basic('root:admin-0123'), '10.0.0.7'))).toEqual({
      client: 'admin-token',
      loopback: false,
    })
    const wrong = chain.refusalOf(facts({ authorization: 'Bearer wrong-0123' }))
    expect(wrong?.status).toBe(401)
    for (const authorization of [
      `Basic ${btoa('alice-0123')}`,
      'Basic %%%',
      `Basic ${btoa('x:alice-0123').replace('ph', 'p.h')}`,
    ]) {
      expect(chain.refusalOf(facts({ authorization }))).toEqual(wrong)
      expect(chain.contextOf(facts({ authorization }, '10.0.0.7')).client).toBe('ip:10.0.0.7')
    }
  })
})
