import { FormatRegistry, type Static, type TSchema, Type } from '@sinclair/typebox'
import { realtimeMethods } from '../rpc/methods.ts'
import { parseOriginRule } from '../util/origin-policy.ts'

/** The reference's active public mainnet list (SPEC §2), used when `--rpc-urls` is not given. */
export const DEFAULT_RPC_URLS = [
  'https://rpc.eth.gateway.fm',
  'https://mainnet.gateway.tenderly.co',
  'https://gateway.tenderly.co/public/mainnet',
  'https://eth-mainnet.public.blastapi.io',
  'https://ethereum-mainnet.gateway.tatum.io',
  'https://eth.api.onfinality.io/public',
  'https://eth.llamarpc.com',
  'https://api.zan.top/eth-mainnet',
  'https://eth.drpc.org',
  'https://ethereum.rpc.subquery.network/public',
]

FormatRegistry.Set('origin-rule', (value) => parseOriginRule(value) !== undefined)

/** A URL of one of `protocols` with a host name. */
const urlWith =
  (...protocols: string[]) =>
  (value: string): boolean => {
    try {
      const url = new URL(value)
      return protocols.includes(url.protocol) && url.hostname !== ''
    } catch {
      return false
    }
  }

FormatRegistry.Set('http-url', urlWith('http:', 'https:'))
FormatRegistry.Set('ws-url', urlWith('ws:', 'wss:'))
FormatRegistry.Set('redis-url', urlWith('redis:', 'rediss:'))

const integer = (minimum: number, maximum: number, defaultValue: number, description: string) =>
  Type.Integer({ minimum, maximum, default: defaultValue, description })

const optionalInteger = (minimum: number, maximum: number, description: string) =>
  Type.Optional(Type.Integer({ minimum, maximum, description }))

const MAX_SECONDS = 31_536_000

/**
 * Every option of `edb-rpc-proxy server`: the single source of flags, environment variables,
 * defaults and `--help` text. Keys are camelCase; the flag is their kebab-case form
 * (`rpcUrls` → `--rpc-urls`), the environment variable `EDB_PROXY_` + SNAKE_CASE.
 */
export const ServerOptionsSchema = Type.Object({
  config: Type.Optional(
    Type.String({
      minLength: 1,
      description: 'YAML or JSON file with these options under their long names; ${ENV_VAR} is substituted',
    }),
  ),
  host: Type.String({ minLength: 1, default: '127.0.0.1', description: 'Address to bind' }),
  port: integer(0, 65535, 8546, 'Port to listen on (0 picks a free one)'),
  rpcUrls: Type.Array(Type.String({ format: 'http-url' }), {
    default: DEFAULT_RPC_URLS,
    description: 'Comma-separated upstream RPC URLs; "" runs cache-only',
  }),
  providers: Type.Optional(
    Type.Array(
      Type.Object(
        {
          url: Type.String({ format: 'http-url' }),
          rps: Type.Optional(Type.Number({ exclusiveMinimum: 0, maximum: 1_000_000 })),
          burst: Type.Optional(Type.Integer({ minimum: 0, maximum: 1_000_000 })),
        },
        { additionalProperties: false },
      ),
      {
        minItems: 1,
        fileOnly: true,
        recordsOf: 'providers',
        description:
          'Config file only, instead of --rpc-urls: the upstreams as a list of {url, rps?, burst?}; rps: at most that many calls in any one-second window (a batch counts each call), burst: that many more at once',
      },
    ),
  ),
  maxCacheItems: integer(0, 1_000_000_000, 1_024_000, 'Maximum cached responses; 0 disables caching'),
  cacheDir: Type.String({ minLength: 1, default: '~/.edb/cache', description: 'Cache root directory' }),
  cacheSaveInterval: integer(0, 525_600, 15, 'Minutes; accepted for compatibility (saving is continuous)'),
  maxFailures: integer(1, 1000, 3, 'Consecutive failures before a provider is marked unhealthy'),
  healthCheckInterval: integer(1, 86_400, 60, 'Seconds between provider health checks'),
  gracePeriod: integer(0, MAX_SECONDS, 0, 'Seconds to wait after the last debugger is gone before exiting; 0 = never'),
  heartbeatInterval: integer(1, 86_400, 10, 'Seconds between expected debugger heartbeats'),
  tui: Type.Boolean({
    default: false,
    description:
      'Run the monitor dashboard in this terminal (logs then go only to --log-file); quitting it stops the proxy',
  }),
  chainId: optionalInteger(1, Number.MAX_SAFE_INTEGER, 'Chain id for cache-only mode (default 1, mainnet)'),
  adminToken: Type.Optional(
    Type.String({
      minLength: 1,
      secret: true,
      description: "token required for edb_shutdown, edb_deleteCache, edb_register (Bearer, or Basic auth's password)",
    }),
  ),
  authToken: Type.Optional(
    Type.String({
      minLength: 1,
      secret: true,
      description: "token required for every call (Bearer, or Basic auth's password: http://user:TOKEN@host)",
    }),
  ),
  authTokens: Type.Optional(
    Type.Record(Type.String({ pattern: '^[A-Za-z0-9_.-]{1,64}$' }), Type.String({ minLength: 8 }), {
      fileOnly: true,
      mapOf: 'tokens',
      secret: true,
      description:
        'Config file only: named client tokens (name: token, ${ENV} allowed); a call must carry one, and is rate limited and counted by its name',
    }),
  ),
  allowedOrigins: Type.Array(Type.String({ format: 'origin-rule' }), {
    default: ['loopback'],
    description:
      "Browser origins that may call methods changing a node's state or using its keys (eth_send*, eth_sign*, personal_*, evm_*, anvil_*, hardhat_*): loopback, *, or scheme://host[:port|:*]",
  }),
  maxBodyBytes: integer(1024, 1 << 30, 32 << 20, 'Largest accepted request body in bytes (larger: HTTP 413)'),
  maxBatchSize: integer(1, 100_000, 1000, 'Most calls accepted in one batch'),
  upstreamTimeoutMs: integer(
    100,
    600_000,
    10_000,
    'Milliseconds one upstream attempt may take (time spent waiting for a slot not counted)',
  ),
  upstreamConcurrency: integer(
    1,
    16_384,
    256,
    'Most upstream attempts in flight at once per provider; more calls wait for a slot',
  ),
  upstreamQueue: integer(
    0,
    1_000_000,
    4_096,
    'Most calls waiting for a slot per provider; beyond it the next provider is tried, then -32005',
  ),
  upstreamBatchSize: integer(
    1,
    10_000,
    100,
    'Most calls in one JSON-RPC batch to a provider: the misses of a client batch travel together (1: one by one; a provider refusing batches gets single calls)',
  ),
  upstreamBatchBytes: integer(
    1024,
    1 << 30,
    1 << 20,
    'Most request bytes in one JSON-RPC batch to a provider (a batch it refuses as too large, by a reset or HTTP 413, is split and sent again)',
  ),
  maxCacheBytes: integer(1 << 20, 64 * 1024 ** 3, 256 << 20, 'Memory for the hot subset of the cache, in bytes'),
  finalityDepth: integer(0, 100_000, 64, 'Blocks below the head taken as final where the chain has no finalized tag'),
  prefetch: Type.Union([Type.Literal('on'), Type.Literal('off')], {
    default: 'on',
    description:
      "Prefetch a replayed block's parent state: on a state read at a final block B while B+1 was just asked for, fetch every account and slot B+1 touches in one trace",
  }),
  verifyState: Type.Union([Type.Literal('when-possible'), Type.Literal('required'), Type.Literal('off')], {
    default: 'when-possible',
    description:
      "Prove state answers (balance, nonce, code, storage) at final blocks with eth_getProof against the block's checked state root before storing them: when-possible (unproven ones served and kept locally, never shared), required (unproven ones not stored), off",
  }),
  devChain: Type.Union([Type.Literal('auto'), Type.Literal('yes'), Type.Literal('no')], {
    default: 'auto',
    description:
      'Treat the upstream as a local development chain (memory-only cache, invalidated by evm_/anvil_/hardhat_ calls); auto: chain id 31337/1337 or an anvil/hardhat/ganache client',
  }),
  logLevel: Type.Union(
    [Type.Literal('silent'), Type.Literal('error'), Type.Literal('warn'), Type.Literal('info'), Type.Literal('debug')],
    {
      default: 'info',
      description: 'Least severe log level written (info: startup and warnings only, never per call)',
    },
  ),
  logFormat: Type.Union([Type.Literal('pretty'), Type.Literal('json')], {
    default: 'pretty',
    description: 'Log lines for people (pretty) or machines (json, one object per line)',
  }),
  logFile: Type.Optional(Type.String({ minLength: 1, description: 'Also append log lines to this file' })),
  maxResponseBytes: integer(1024, 4 * 1024 ** 3, 256 << 20, 'Largest accepted upstream response in bytes'),
  wsUrls: Type.Array(Type.String({ format: 'ws-url' }), {
    default: [],
    description:
      'Comma-separated upstream WebSocket URLs for subscription feeds (up to two used at once); none: each --rpc-urls entry is tried as ws(s)://, else heads are polled over HTTP',
  }),
  wsMaxConnections: integer(1, 1_000_000, 10_000, 'Most WebSocket connections at once (more: HTTP 503 at the upgrade)'),
  wsMaxSubscriptions: integer(1, 100_000, 100, 'Most subscriptions per WebSocket connection'),
  wsSendQueueBytes: integer(
    1024,
    1 << 30,
    16 << 20,
    'Bytes queued for one WebSocket client before it is closed as too slow (1008)',
  ),
  cacheUrl: Type.Optional(
    Type.String({
      format: 'redis-url',
      secret: true,
      description:
        'Shared cache tier: redis://[user:pass@]host:port[/db] or rediss:// (TLS); final answers of real chains, shared by every proxy using it',
    }),
  ),
  cachePrefix: Type.String({
    minLength: 1,
    maxLength: 64,
    default: 'edb:',
    description: 'Key prefix in the shared cache (then the chain id)',
  }),
  realtimeTtlMs: Type.Optional(
    Type.Record(Type.String(), Type.Integer({ minimum: 1, maximum: 60_000 }), {
      fileOnly: true,
      mapOf: 'realtime',
      description:
        'Config file only: milliseconds an answer about "now" may be shared (eth_blockNumber, eth_gasPrice, eth_maxPriorityFeePerGas, eth_feeHistory at latest); memory only, x-cache: HIT-TTL; default none',
    }),
  ),
  rateLimit: integer(
    0,
    1_000_000,
    0,
    'Calls per second each client may make (token bucket; debug_/trace_ cost 20, eth_getLogs 10); 0: no limit',
  ),
  rateBurst: integer(
    0,
    10_000_000,
    0,
    'Most calls a client may make at once before the rate applies; 0: twice --rate-limit',
  ),
  rateCosts: Type.Optional(
    Type.Record(Type.String(), Type.Integer({ minimum: 0, maximum: 1_000_000 }), {
      fileOnly: true,
      mapOf: 'costs',
      description:
        'Config file only: what a call costs against --rate-limit, per method or namespace_* (defaults: debug_*/trace_* 20, eth_getLogs 10, others 1)',
    }),
  ),
  rateFreeHits: Type.Boolean({
    default: false,
    description: 'Cache hits cost nothing against --rate-limit (only calls that go upstream count)',
  }),
  tlsCert: Type.Optional(
    Type.String({
      minLength: 1,
      description: 'PEM certificate file: serve HTTPS and WSS on the port (with --tls-key)',
    }),
  ),
  tlsKey: Type.Optional(Type.String({ minLength: 1, description: 'PEM private key file of --tls-cert' })),
  pollIntervalMs: integer(
    50,
    600_000,
    1_000,
    'Milliseconds between head polls over HTTP when no upstream WebSocket feed is up',
  ),
})

/** Validated options of the `server` subcommand. */
export type ServerOptions = Static<typeof ServerOptionsSchema>

/** The option names, in `--help` order. */
export type ServerOptionName = keyof ServerOptions

/** How a raw string (flag or environment value) becomes a typed value for one option. */
export type OptionKind = 'integer' | 'boolean' | 'string' | 'list' | 'choice' | 'map' | 'records'

/** The kind of one option's schema. */
export function optionKind(schema: TSchema): OptionKind {
  if (schema.type === 'integer') return 'integer'
  if (schema.type === 'boolean') return 'boolean'
  if (schema.recordsOf !== undefined) return 'records'
  if (schema.type === 'array') return 'list'
  if (schema.type === 'object') return 'map'
  if (Array.isArray(schema.anyOf)) return 'choice'
  return 'string'
}

/** Human wording of what an option accepts, for one-line errors. */
export function describeAccepted(schema: TSchema): string {
  switch (optionKind(schema)) {
    case 'integer':
      return schema.maximum >= Number.MAX_SAFE_INTEGER
        ? `an integer >= ${schema.minimum}`
        : `an integer from ${schema.minimum} to ${schema.maximum}`
    case 'boolean':
      return 'true or false'
    case 'list':
      if (schema.items?.format === 'origin-rule')
        return 'a comma-separated list of loopback, * or scheme://host[:port|:*]'
      if (schema.items?.format === 'ws-url') return 'a comma-separated list of ws(s) URLs, or "" for none'
      return 'a comma-separated list of http(s) URLs, or "" for none'
    case 'choice':
      return `one of ${choices(schema).join(', ')}`
    case 'records':
      return 'a list of {url, rps?, burst?}: url an http(s) URL, rps a number above 0 (calls a second), burst a whole number >= 0'
    case 'map':
      if (schema.mapOf === 'tokens')
        return 'a mapping of names (letters, digits, _ . -) to tokens of at least 8 characters'
      if (schema.mapOf === 'costs')
        return 'a mapping of method names (or namespace_*) to costs, whole numbers from 0 to 1000000'
      return `a mapping of ${realtimeMethods().join(', ')} to milliseconds (1 to 60000)`
    case 'string':
      return 'a non-empty string'
  }
}

/** The literal values a choice option accepts. */
export function choices(schema: TSchema): string[] {
  return (schema.anyOf as { const: string }[]).map((option) => option.const)
}
