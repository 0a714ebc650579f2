import type { ArgsDef } from 'citty'
import { ConfigError, FLAG_ENTRIES, type RawOptions, toEnvName, toFlagName } from '../config/load.ts'
import { DEFAULT_RPC_URLS, optionKind } from '../config/schema.ts'

/** citty argument definitions derived from the option schema (defaults shown, not injected, so precedence stays ours). */
export function serverArgs(): ArgsDef {
  const args: ArgsDef = {}
  for (const [key, schema] of FLAG_ENTRIES) {
    const shown = schema.default === DEFAULT_RPC_URLS ? 'public mainnet list' : JSON.stringify(schema.default)
    const suffix = schema.default === undefined ? '' : ` (default: ${shown})`
    args[toFlagName(key)] = {
      type: optionKind(schema) === 'boolean' ? 'boolean' : 'string',
      description: `${schema.description}${suffix} [env ${toEnvName(key)}]`,
    }
  }
  return args
}

const FLAG_KEYS = new Map(FLAG_ENTRIES.map(([key, schema]) => [toFlagName(key), { key, schema }]))

/**
 * Read the flags the user actually gave, refusing unknown flags and stray arguments with a
 * one-line error (citty itself ignores both).
 */
export function givenFlags(rawArgs: readonly string[], parsed: Record<string, unknown>): RawOptions {
  const given: RawOptions = {}
  for (let index = 0; index < rawArgs.length; index++) {
    const token = rawArgs[index] as string
    if (!token.startsWith('--')) {
      throw new ConfigError(`unexpected argument ${JSON.stringify(token)} (see --help)`)
    }
    const name = token.slice(2).split('=')[0] as string
    const negated = name.startsWith('no-') && !FLAG_KEYS.has(name)
    const option = FLAG_KEYS.get(negated ? name.slice(3) : name)
    if (option === undefined) throw new ConfigError(`unknown flag --${name} (see --help)`)
    const isSwitch = optionKind(option.schema) === 'boolean'
    if (!isSwitch && !token.includes('=')) index++
    if (isSwitch && negated) given[option.key] = false
    else if (isSwitch && token.includes('=')) given[option.key] = token.slice(token.indexOf('=') + 1)
    else given[option.key] = parsed[toFlagName(option.key)] as string | boolean
  }
  return given
}
