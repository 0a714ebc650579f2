import { readFileSync } from 'node:fs'
import { parse } from 'yaml'
import { ConfigError } from './errors.ts'

/**
 * Read a config file (YAML, or JSON, which YAML includes) into long-flag-name keys and raw values,
 * with `${ENV_VAR}` substituted in every string from `env` (SPEC §2). Errors name the file and key.
 */
export function readConfigFile(path: string, env: Record<string, string | undefined>): Record<string, unknown> {
  let text: string
  try {
    text = readFileSync(path, 'utf8')
  } catch (error) {
    throw new ConfigError(`cannot read config file ${path}: ${(error as { code?: string }).code ?? String(error)}`)
  }
  let document: unknown
  try {
    document = parse(text)
  } catch (error) {
    throw new ConfigError(`config file ${path} is not valid YAML or JSON: ${(error as Error).message.split('\n')[0]}`)
  }
  if (document === null || document === undefined) return {}
  if (typeof document !== 'object' || Array.isArray(document)) {
    throw new ConfigError(`config file ${path} must hold a mapping of option names to values`)
  }
  const values: Record<string, unknown> = {}
  for (const [key, value] of Object.entries(document)) values[key] = substitute(value, env, path, key)
  return values
}

function substitute(value: unknown, env: Record<string, string | undefined>, path: string, key: string): unknown {
  if (Array.isArray(value)) return value.map((item) => substitute(item, env, path, key))
  if (value !== null && typeof value === 'object') {
    return Object.fromEntries(Object.entries(value).map(([name, item]) => [name, substitute(item, env, path, key)]))
  }
  if (typeof value !== 'string') return value
  return value.replace(/\$\{([A-Za-z_][A-Za-z0-9_]*)\}/g, (_, name: string) => {
    const found = env[name]
    if (found === undefined)
      throw new ConfigError(`config file ${path}: key "${key}" uses \${${name}}, which is not set`)
    return found
  })
}
