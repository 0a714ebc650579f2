import { describe, expect, test } from 'bun:test'
import { ConfigError, loadServerOptions, toEnvName, toFlagName } from '../../src/config/load.ts'
import { DEFAULT_RPC_URLS } from '../../src/config/schema.ts'

describe('loadServerOptions', () => {
  test('default', () => {
    const options = loadServerOptions({ flags: {}, env: {} })
    expect(options).toEqual({
      host: '127.0.0.1',
      port: 8546,
      rpcUrls: DEFAULT_RPC_URLS,
      maxCacheItems: 1_024_000,
      cacheDir: '~/.edb/cache',
      cacheSaveInterval: 15,
      maxFailures: 3,
      healthCheckInterval: 60,
      gracePeriod: 0,
      heartbeatInterval: 10,
      tui: false,
      allowedOrigins: ['loopback'],
      maxBodyBytes: 32 * 1024 * 1024,
      maxBatchSize: 1000,
      upstreamTimeoutMs: 10_000,
      upstreamConcurrency: 256,
      upstreamQueue: 4_096,
      upstreamBatchSize: 100,
      upstreamBatchBytes: 1 << 20,
      maxCacheBytes: 256 * 1024 * 1024,
      finalityDepth: 64,
      prefetch: 'on',
      verifyState: 'when-possible',
      devChain: 'auto',
      logLevel: 'info',
      logFormat: 'pretty',
      maxResponseBytes: 256 * 1024 * 1024,
      wsUrls: [],
      wsMaxConnections: 10_000,
      wsMaxSubscriptions: 100,
      wsSendQueueBytes: 16 * 1024 * 1024,
      cachePrefix: 'edb:',
      rateLimit: 0,
      rateBurst: 0,
      rateFreeHits: false,
      pollIntervalMs: 1_000,
    })
  })

  test('behavior: flags override the environment, which overrides defaults', () => {
    const options = loadServerOptions({
      flags: { port: '9000' },
      env: { EDB_PROXY_PORT: '9100', EDB_PROXY_GRACE_PERIOD: '30', UNRELATED: 'x' },
    })
    expect(options.port).toBe(9000)
    expect(options.gracePeriod).toBe(30)
  })

  test('behavior: rpc-urls is a comma list; "" means cache-only', () => {
    expect(loadServerOptions({ flags: { rpcUrls: 'http://a:1, https://b/x' }, env: {} }).rpcUrls).toEqual([
      'http://a:1',
      'https://b/x',
    ])
    expect(loadServerOptions({ flags: { rpcUrls: '' }, env: {} }).rpcUrls).toEqual([])
  })

  test('behavior: switches accept true/false words', () => {
    expect(loadServerOptions({ flags: { tui: true }, env: {} }).tui).toBe(true)
    expect(loadServerOptions({ flags: {}, env: { EDB_PROXY_TUI: 'false' } }).tui).toBe(false)
  })

  const bad: [string, Record<string, string>, Record<string, string>, string][] = [
    [
      'port above range',
      { port: '70000' },
      {},
      'invalid value for --port: "70000" (expected an integer from 0 to 65535)',
    ],
    [
      'negative interval',
      { gracePeriod: '-1' },
      {},
      'invalid value for --grace-period: "-1" (expected an integer from 0 to 31536000)',
    ],
    [
      'fraction',
      { heartbeatInterval: '1.5' },
      {},
      'invalid value for --heartbeat-interval: "1.5" (expected an integer from 1 to 86400)',
    ],
    [
      'words for a number',
      { maxFailures: 'three' },
      {},
      'invalid value for --max-failures: "three" (expected an integer from 1 to 1000)',
    ],
    ['empty number', { port: '' }, {}, 'invalid value for --port: "" (expected an integer from 0 to 65535)'],
    ['unparsable URL', { rpcUrls: 'not a url' }, {}, '--rpc-urls: "<not a URL #d8b5bf9b>"'],
    ['non-http URL', { rpcUrls: 'ftp://x' }, {}, '--rpc-urls: "ftp://x"'],
    ['bad environment value', {}, { EDB_PROXY_PORT: 'abc' }, 'invalid value for EDB_PROXY_PORT: "abc"'],
    [
      'unknown choice',
      { devChain: 'maybe' },
      {},
      'invalid value for --dev-chain: "maybe" (expected one of auto, yes, no)',
    ],
    [
      'bad switch word',
      {},
      { EDB_PROXY_TUI: 'maybe' },
      'invalid value for EDB_PROXY_TUI: "maybe" (expected true or false)',
    ],
  ]
  for (const [name, flags, env, message] of bad) {
    test(`behavior: rejects ${name} naming its source`, () => {
      expect(() => loadServerOptions({ flags, env })).toThrow(ConfigError)
      expect(() => loadServerOptions({ flags, env })).toThrow(message)
    })
  }
})

describe('option names', () => {
  test('default', () => {
    expect(toFlagName('rpcUrls')).toBe('rpc-urls')
    expect(toEnvName('maxCacheItems')).toBe('EDB_PROXY_MAX_CACHE_ITEMS')
  })
})
