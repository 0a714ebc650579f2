import { afterAll, describe, expect, test } from 'bun:test'
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { ConfigError, loadServerOptions } from '../../src/config/load.ts'

const dir = mkdtempSync(join(tmpdir(), 'edb-config-'))
afterAll(() => rmSync(dir, { recursive: true, force: true }))
let files = 0
function file(text: string, name = `c${files++}.yaml`) {
  const path = join(dir, name)
  writeFileSync(path, text)
  return path
}

describe('config file', () => {
  test('default', () => {
    const path = file(
      'port: 9100\nrpc-urls:\n  - http://a.example\n  - https://b.example/x\ngrace-period: 30\ntui: true\n',
    )
    expect(loadServerOptions({ flags: { config: path }, env: {} })).toMatchObject({
      port: 9100,
      rpcUrls: ['http://a.example', 'https://b.example/x'],
      gracePeriod: 30,
      tui: true,
    })
  })

  test('behavior: precedence is defaults < file < environment < flags', () => {
    const path = file('port: 9100\nmax-failures: 7\nheartbeat-interval: 20\n')
    const options = loadServerOptions({
      flags: { config: path, port: '9300' },
      env: { EDB_PROXY_PORT: '9200', EDB_PROXY_MAX_FAILURES: '8' },
    })
    expect([options.port, options.maxFailures, options.heartbeatInterval, options.gracePeriod]).toEqual([
      9300, 8, 20, 0,
    ])
  })

  test('behavior: the file may come from EDB_PROXY_CONFIG; JSON works; a comma string works for rpc-urls', () => {
    const path = file('{"rpc-urls": "http://a.example, http://b.example", "log-level": "warn"}', 'c.json')
    expect(loadServerOptions({ flags: {}, env: { EDB_PROXY_CONFIG: path } })).toMatchObject({
      rpcUrls: ['http://a.example', 'http://b.example'],
      logLevel: 'warn',
    })
  })

  test('behavior: ${ENV_VAR} is substituted in strings and lists, so keys stay out of files', () => {
    const path = file('rpc-urls:\n  - https://mainnet.example/v3/${INFURA_KEY}\nadmin-token: "${ADMIN}"\n')
    expect(loadServerOptions({ flags: { config: path }, env: { INFURA_KEY: 'abc123', ADMIN: 'tok' } })).toMatchObject({
      rpcUrls: ['https://mainnet.example/v3/abc123'],
      adminToken: 'tok',
    })
  })

  const broken: [string, string, string][] = [
    ['a missing variable', 'admin-token: ${NOPE}\n', 'key "admin-token" uses ${NOPE}, which is not set'],
    ['invalid YAML', 'port: [1, 2\n', 'is not valid YAML or JSON'],
    ['a list at the top', '- port\n', 'must hold a mapping of option names to values'],
    ['an unknown key', 'prot: 1\n', 'unknown key "prot"'],
    ['a camelCase key', 'maxFailures: 1\n', 'unknown key "maxFailures"'],
    ['a bad value', 'port: 70000\n', 'key "port": "70000" (expected an integer from 0 to 65535)'],
    ['a wrong type', 'port: [1]\n', 'key "port": [1] (expected an integer from 0 to 65535)'],
    ['a bad URL in a list', 'rpc-urls: [ftp://x]\n', 'key "rpc-urls"'],
  ]
  for (const [name, text, message] of broken) {
    test(`behavior: ${name} is an error naming the file and the key`, () => {
      const path = file(text)
      expect(() => loadServerOptions({ flags: { config: path }, env: {} })).toThrow(ConfigError)
      expect(() => loadServerOptions({ flags: { config: path }, env: {} })).toThrow(`config file ${path}`)
      expect(() => loadServerOptions({ flags: { config: path }, env: {} })).toThrow(message)
    })
  }

  test('behavior: a missing file is one clear error', () => {
    expect(() => loadServerOptions({ flags: { config: join(dir, 'absent.yaml') }, env: {} })).toThrow(
      `cannot read config file ${join(dir, 'absent.yaml')}: ENOENT`,
    )
  })

  test('behavior: an invalid URL list in an error is shown redacted', () => {
    const entries =
      'https://node.example/v3/0123456789abcdef0123456789abcdef,wss://user:secret@node.example/ws,htps://node.example/KEY123'
    let message = ''
    try {
      loadServerOptions({ flags: { rpcUrls: entries }, env: {} })
    } catch (error) {
      message = (error as Error).message
    }
    expect(message).toStartWith('invalid value for --rpc-urls: "https://node.example/<#')
    for (const secret of ['0123456789abcdef', 'secret', 'KEY123', 'user']) expect(message).not.toContain(secret)
  })

  test('behavior: an invalid --ws-urls list is shown redacted too, and says what it expects', () => {
    let message = ''
    try {
      loadServerOptions({
        flags: { wsUrls: 'wss://node.example/ws/0123456789abcdef,https://user:secret@node.example/KEY123' },
        env: {},
      })
    } catch (error) {
      message = (error as Error).message
    }
    expect(message).toStartWith('invalid value for --ws-urls: "wss://node.example/<#')
    expect(message).toContain('expected a comma-separated list of ws(s) URLs')
    for (const secret of ['0123456789abcdef', 'secret', 'KEY123', 'user']) expect(message).not.toContain(secret)
  })

  test('behavior: secret options given the wrong type are refused without showing them', () => {
    let message = ''
    try {
      loadServerOptions({ flags: { adminToken: '' }, env: {} })
    } catch (error) {
      message = (error as Error).message
    }
    expect(message).toBe(
      'invalid value for --admin-token: (the value is hidden: it is a secret) (expected a non-empty string)',
    )
  })
})

describe('providers: in the config file (SPEC §6)', () => {
  test('default', () => {
    const path = file(
      'providers:\n  - url: http://a.example/key\n    rps: 10\n  - url: https://b.example\n    rps: 2.5\n    burst: 3\n',
    )
    const options = loadServerOptions({ flags: { config: path }, env: {} })
    expect({ rpcUrls: options.rpcUrls, providers: options.providers }).toEqual({
      rpcUrls: ['http://a.example/key', 'https://b.example'],
      providers: [
        { url: 'http://a.example/key', rps: 10 },
        { url: 'https://b.example', rps: 2.5, burst: 3 },
      ],
    })
  })

  const bad: [string, string, RegExp][] = [
    [
      'an unknown key',
      'providers:\n  - url: http://a.example\n    rsp: 10\n',
      /key "providers".*\{url, rps\?, burst\?\}/,
    ],
    ['rps not a positive number', 'providers:\n  - url: http://a.example\n    rps: 0\n', /key "providers" at \/0\/rps/],
    ['rps a string', 'providers:\n  - url: http://a.example\n    rps: fast\n', /key "providers" at \/0\/rps/],
    ['a URL that is not http(s)', 'providers:\n  - url: ftp://a.example/secret-key\n', /key "providers" at \/0\/url/],
    ['an empty list', 'providers: []\n', /key "providers"/],
    [
      'providers and rpc-urls both',
      'providers:\n  - url: http://a.example\nrpc-urls: http://b.example\n',
      /"providers" and key "rpc-urls" both/,
    ],
  ]
  for (const [name, text, expected] of bad) {
    test(`behavior: ${name} is one line naming the file and key`, () => {
      const path = file(text)
      let error: unknown
      try {
        loadServerOptions({ flags: { config: path }, env: {} })
      } catch (caught) {
        error = caught
      }
      expect(error).toBeInstanceOf(ConfigError)
      const message = (error as Error).message
      expect({
        oneLine: !message.includes('\n'),
        file: message.includes(path),
        matches: expected.test(message),
        secret: message.includes('secret-key'),
      }).toEqual({
        oneLine: true,
        file: true,
        matches: true,
        secret: false,
      })
    })
  }

  test('behavior: providers in the file and --rpc-urls as a flag is an error naming both', () => {
    const path = file('providers:\n  - url: http://a.example\n')
    expect(() => loadServerOptions({ flags: { config: path, rpcUrls: 'http://b.example' }, env: {} })).toThrow(
      /"providers" and --rpc-urls both/,
    )
  })
})
