import { Value } from '@sinclair/typebox/value'
import type { TSchema } from '@sinclair/typebox'
import {
  ServerOptionsSchema,
  describeAccepted,
  optionKind,
  type ServerOptionName,
  type ServerOptions,
} from './schema.ts'

/** A configuration value that cannot be used; the message is one line naming its source. */
export class ConfigError extends Error {
  override name = 'ConfigError'
}

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

/** Raw values as they arrive from the command line: strings, or booleans for switches. */
export type RawOptions = Partial<Record<ServerOptionName, string | boolean>>

export type LoadOptions = {
  /** Values given as flags (highest precedence). */
  flags: RawOptions
  /** The process environment; only `EDB_PROXY_*` names are read. */
  env: Record<string, string | undefined>
}

/** Resolve the server options: defaults < environment < flags, each value validated by the schema. */
export function loadServerOptions({ flags, env }: LoadOptions): ServerOptions {
  const options: Record<string, unknown> = {}
  for (const [key, schema] of OPTION_ENTRIES) {
    const fromFlag = flags[key]
    const envName = toEnvName(key)
    const fromEnv = env[envName]
    if (fromFlag !== undefined) options[key] = convert(schema, fromFlag, `--${toFlagName(key)}`)
    else if (fromEnv !== undefined) options[key] = convert(schema, fromEnv, envName)
    else if (schema.default !== undefined) options[key] = structuredClone(schema.default)
  }
  return options as ServerOptions
}

function convert(schema: TSchema, raw: string | boolean, source: string): unknown {
  const value = toTyped(schema, raw)
  if (value === undefined || !Value.Check(schema, value)) {
    throw new ConfigError(`invalid value for ${source}: ${JSON.stringify(raw)} (expected ${describeAccepted(schema)})`)
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
