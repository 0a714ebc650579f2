import process from 'node:process'
import { defineCommand } from 'citty'
import { ConfigError, loadServerOptions } from '../config/load.ts'
import { fetchesNeeded } from '../providers/pool.ts'
import { startServer } from '../server.ts'
import { configureLog, LogFileError, log } from '../util/log.ts'
import type { CommandData } from './command-data.ts'
import { givenFlags, serverArgs } from './options-args.ts'

/** `edb-rpc-proxy server`: run the caching proxy until shut down; resolves with the exit code. */
export const serverCommand = defineCommand({
  meta: { name: 'server', description: 'Run the caching JSON-RPC proxy' },
  args: serverArgs(),
  async run({ rawArgs, args, data }) {
    const options = loadServerOptions({ flags: givenFlags(rawArgs, args), env: process.env })
    // Before anything is opened or written: this may execute the process again with a higher cap.
    const needed = fetchesNeeded(options.rpcUrls.length, options.upstreamConcurrency)
    const fetchCap = (data as CommandData | undefined)?.allowFetches?.(needed) ?? Number.POSITIVE_INFINITY
    // --tui: the dashboard owns this terminal; logs would tear it, so they go only to --log-file.
    try {
      configureLog({ ...options, toConsole: !options.tui })
    } catch (error) {
      if (error instanceof LogFileError) throw new ConfigError(error.message)
      throw error
    }
    if (fetchCap < needed) {
      log.warn(
        `the runtime runs at most ${fetchCap} fetches at once, fewer than the ${needed} the upstream slots need: lower --upstream-concurrency`,
      )
    }
    const server = await startServer(options, { handleSignals: true })
    if (!options.tui) return server.exitCode
    const { runMonitor } = await import('../monitor/run-monitor.tsx')
    await runMonitor({
      url: server.url,
      refreshMs: 250,
      timeoutMs: 5_000,
      err: (text) => process.stderr.write(`${text}\n`),
    })
    server.shutdown('tui-quit')
    return server.exitCode
  },
})
