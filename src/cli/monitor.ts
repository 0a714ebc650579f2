import { defineCommand } from 'citty'
import { ConfigError } from '../config/errors.ts'

const FLAGS = new Set(['refresh-interval', 'timeout'])

/** `edb-rpc-proxy monitor <url>`: the terminal dashboard, against this proxy or the Rust one. */
export const monitorCommand = defineCommand({
  meta: { name: 'monitor', description: 'Terminal dashboard of a running proxy (this one or the Rust reference)' },
  args: {
    url: { type: 'positional', description: 'Proxy URL, e.g. http://127.0.0.1:8546', required: true },
    'refresh-interval': { type: 'string', description: 'Milliseconds between refreshes (default: 250)' },
    timeout: { type: 'string', description: 'Seconds each request may take (default: 5)' },
  },
  async run({ rawArgs, args }) {
    for (const token of rawArgs) {
      const name = token.startsWith('--') ? token.slice(2).split('=')[0] : undefined
      if (name !== undefined && !FLAGS.has(name)) throw new ConfigError(`unknown flag --${name} (see --help)`)
    }
    const url = String(args.url)
    if (!/^https?:\/\/[^/]/.test(url) || !URL.canParse(url)) {
      throw new ConfigError(`invalid value for URL: ${JSON.stringify(url)} (expected an http(s) URL)`)
    }
    const refreshMs = integerFlag('refresh-interval', args['refresh-interval'], 250, 50, 60_000)
    const timeoutS = integerFlag('timeout', args.timeout, 5, 1, 300)
    const { runMonitor } = await import('../monitor/run-monitor.tsx')
    return runMonitor({ url, refreshMs, timeoutMs: timeoutS * 1000, err: (text) => process.stderr.write(`${text}\n`) })
  },
})

function integerFlag(name: string, raw: unknown, fallback: number, min: number, max: number): number {
  if (raw === undefined) return fallback
  const text = String(raw).trim()
  const value = /^\d+$/.test(text) ? Number(text) : Number.NaN
  if (!(value >= min && value <= max))
    throw new ConfigError(
      `invalid value for --${name}: ${JSON.stringify(raw)} (expected an integer from ${min} to ${max})`,
    )
  return value
}
