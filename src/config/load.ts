import type { TSchema } from '@sinclair/typebox'
import { Value } from '@sinclair/typebox/value'
import { realtimeMethods } from '../rpc/methods.ts'
import { redactUrl } from '../util/redact.ts'
import { readConfigFile } from './config-file.ts'
import { ConfigError } from './errors.ts'
import {
  describeAccepted,
  optionKind,
  type ServerOptionName,
  type ServerOptions,
  ServerOptionsSchema,
} from './schema.ts'

export { ConfigError }

/** `rpcUrls` → `rpc-urls`. */
export function toFlagName(key: string): string {
  return key.replace(/[A-Z]/g, (c) => `-${c.toLowerCase()}`)
}

/** `rpcUrls` → `EDB_PROXY_RPC_URLS`. */
export function toEnvName(key: string): string {
  return `EDB_PROXY_${toFlagName(key).replace(/-/g, '_').toUpperCase()}`
}

/** Every option name with its schema, in declaration order. */
export const OPTION_ENTRIES = Object.entries(ServerOptionsSchema.properties) as [ServerOptionName, TSchema][]

/** Options that are flags and environment variables too (a mapping is a config-file key only). */
export const FLAG_ENTRIES = OPTION_ENTRIES.filter(([, schema]) => schema.fileOnly !== true)

/** Raw values as they arrive from the command line: strings, or booleans for switches. */
export type RawOptions = Partial<Record<ServerOptionName, string | boolean>>

export type LoadOptions = {
  /** Values given as flags (highest precedence). */
  flags: RawOptions
  /** The process environment; only `EDB_PROXY_*` names are read. */
  env: Record<string, string | undefined>
}

/**
 * Resolve the server options: defaults < config file (`--config`) < environment < flags, each value
 * validated by the one schema.
 */
export function loadServerOptions({ flags, env }: LoadOptions): ServerOptions {
  const configPath = typeof flags.config === 'string' ? flags.config : env[toEnvName('config')]
  const fromFile = configPath === undefined || configPath === '' ? {} : readConfigFile(configPath, env)
  const known = new Set(OPTION_ENTRIES.map(([key]) => toFlagName(key)))
  for (const key of Object.keys(fromFile)) {
    if (!known.has(key) || key === 'config')
      throw new ConfigError(
        `config file ${configPath}: unknown key "${key}" (keys are the long flag names, like "rpc-urls")`,
      )
  }
  const options: Record<string, unknown> = {}
  for (const [key, schema] of OPTION_ENTRIES) {
    const fromFlag = flags[key]
    const envName = toEnvName(key)
    const fromEnv = env[envName]
    const fileValue = fromFile[toFlagName(key)]
    const fileOnly = schema.fileOnly === true
    if (fromFlag !== undefined && !fileOnly) options[key] = convert(schema, fromFlag, `--${toFlagName(key)}`)
    else if (fromEnv !== undefined && !fileOnly) options[key] = convert(schema, fromEnv, envName)
    else if (fileValue !== undefined)
      options[key] = convertFileValue(schema, fileValue, `config file ${configPath}: key "${toFlagName(key)}"`)
    else if (schema.default !== undefined) options[key] = structuredClone(schema.default)
  }
  return withProviders(options as ServerOptions, { flags, env, fromFile, configPath })
}

/**
 * `providers:` (config file) names the upstreams with their budgets (SPEC §6): they become the
 * provider URLs. Given beside `--rpc-urls` (flag, environment or file), which one was meant is
 * unknown: an error naming both.
 */
function withProviders(
  options: ServerOptions,
  given: { flags: RawOptions; env: LoadOptions['env']; fromFile: Record<string, unknown>; configPath?: string },
): ServerOptions {
  if (options.providers === undefined) return options
  const rpcUrlsFrom =
    given.flags.rpcUrls !== undefined
      ? '--rpc-urls'
      : given.env[toEnvName('rpcUrls')] !== undefined
        ? toEnvName('rpcUrls')
        : given.fromFile['rpc-urls'] !== undefined
          ? 'key "rpc-urls"'
          : undefined
  if (rpcUrlsFrom !== undefined) {
    throw new ConfigError(
      `config file ${given.configPath}: key "providers" and ${rpcUrlsFrom} both name the upstreams: give them once (providers: [{url, rps?, burst?}] or rpc-urls)`,
    )
  }
  return { ...options, rpcUrls: options.providers.map((provider) => provider.url) }
}

const TOKEN_NAME = /^[A-Za-z0-9_.-]{1,64}$/

/** A mapping of client names to tokens of at least 8 characters. */
function isTokenMap(value: unknown): value is Record<string, string> {
  if (value === null || typeof value !== 'object' || Array.isArray(value)) return false
  // An empty mapping would silently mean "no tokens required": refused.
  const entries = Object.entries(value)
  return (
    entries.length > 0 &&
    entries.every(([name, token]) => TOKEN_NAME.test(name) && typeof token === 'string' && token.length >= 8)
  )
}

const METHOD_PATTERN = /^[A-Za-z][A-Za-z0-9]*_(?:[A-Za-z0-9_]+|\*)$/

/** A mapping of method names (or `namespace_*`) to costs. */
function isCostMap(value: unknown): value is Record<string, number> {
  if (value === null || typeof value !== 'object' || Array.isArray(value)) return false
  return Object.keys(value).every((method) => METHOD_PATTERN.test(method))
}

/** A mapping of the "now" methods SPEC §13 lets be shared briefly to milliseconds. */
function isRealtimeMap(value: unknown): value is Record<string, number> {
  if (value === null || typeof value !== 'object' || Array.isArray(value)) return false
  return Object.keys(value).every((method) => realtimeMethods().includes(method))
}

/** A file value: native YAML/JSON types are checked as they are; strings go through the flag conversion. */
function convertFileValue(schema: TSchema, value: unknown, source: string): unknown {
  if (optionKind(schema) === 'records') {
    if (Value.Check(schema, value)) return value
    const first = [...Value.Errors(schema, value)][0]
    const where = first === undefined || first.path === '' ? '' : ` at ${first.path}`
    throw new ConfigError(
      `invalid value for ${source}${where}: ${shownRecords(value)} (expected ${describeAccepted(schema)})`,
    )
  }
  if (optionKind(schema) === 'map') {
    const shapeOk =
      schema.mapOf === 'tokens' ? isTokenMap(value) : schema.mapOf === 'costs' ? isCostMap(value) : isRealtimeMap(value)
    if (shapeOk && Value.Check(schema, value)) return value
    throw new ConfigError(
      `invalid value for ${source}: ${shownValue(schema, value)} (expected ${describeAccepted(schema)})`,
    )
  }
  if (typeof value === 'string' || (typeof value === 'boolean' && optionKind(schema) === 'boolean'))
    return convert(schema, value, source)
  if (typeof value === 'number' && optionKind(schema) !== 'list') return convert(schema, String(value), source)
  if (Array.isArray(value) && optionKind(schema) === 'list' && value.every((item) => typeof item === 'string')) {
    if (
      Value.Check(
        schema,
        value.map((item) => item.trim()),
      )
    )
      return value.map((item) => item.trim())
  }
  throw new ConfigError(
    `invalid value for ${source}: ${shownValue(schema, value)} (expected ${describeAccepted(schema)})`,
  )
}

/**
 * How a rejected value is shown in its error (SPEC §8): a secret option's never; a URL list's
 * entries redacted, whatever their scheme or shape; anything else as given.
 */
function shownValue(schema: TSchema, value: unknown): string {
  if (schema.secret === true) return '(the value is hidden: it is a secret)'
  if (schema.items?.format !== 'http-url' && schema.items?.format !== 'ws-url') return JSON.stringify(value)
  const entries = Array.isArray(value) ? value : typeof value === 'string' ? value.split(',') : [value]
  const redacted = entries.map((entry) =>
    typeof entry === 'string' && entry.trim() !== '' ? redactUrl(entry.trim()) : entry,
  )
  return JSON.stringify(Array.isArray(value) ? redacted : redacted.join(','))
}

/** A `providers:` list as an error shows it: URLs redacted (SPEC §8), the rest as given. */
function shownRecords(value: unknown): string {
  if (!Array.isArray(value)) return JSON.stringify(value)
  return JSON.stringify(
    value.map((entry) =>
      entry !== null && typeof entry === 'object' && typeof entry.url === 'string'
        ? { ...entry, url: redactUrl(entry.url) }
        : entry,
    ),
  )
}

function convert(schema: TSchema, raw: string | boolean, source: string): unknown {
  const value = toTyped(schema, raw)
  if (value === undefined || !Value.Check(schema, value)) {
    throw new ConfigError(
      `invalid value for ${source}: ${shownValue(schema, raw)} (expected ${describeAccepted(schema)})`,
    )
  }
  return value
}

function toTyped(schema: TSchema, raw: string | boolean): unknown {
  const kind = optionKind(schema)
  if (kind === 'boolean') return typeof raw === 'boolean' ? raw : parseBoolean(raw)
  if (typeof raw !== 'string') return undefined
  const text = raw.trim()
  if (kind === 'integer') return /^-?\d+$/.test(text) ? Number(text) : undefined
  if (kind === 'list') return text === '' ? [] : text.split(',').map((part) => part.trim())
  return raw
}

function parseBoolean(raw: string): boolean | undefined {
  const text = raw.trim().toLowerCase()
  if (text === 'true' || text === '1' || text === '') return true
  if (text === 'false' || text === '0') return false
  return undefined
}
