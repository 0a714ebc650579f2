import process from 'node:process'
import { defineCommand } from 'citty'
import { ConfigError, loadServerOptions } from '../config/load.ts'
import { startServer } from '../server.ts'
import { configureLog, LogFileError } from '../util/log.ts'
import { givenFlags, serverArgs } from './options-args.ts'

/** `edb-rpc-proxy server`: run the caching proxy until shut down; resolves with the exit code. */
export const serverCommand = defineCommand({
  meta: { name: 'server', description: 'Run the caching JSON-RPC proxy' },
  args: serverArgs(),
  async run({ rawArgs, args }) {
    const options = loadServerOptions({ flags: givenFlags(rawArgs, args), env: process.env })
    // --tui: the dashboard owns this terminal; logs would tear it, so they go only to --log-file.
    try {
      configureLog({ ...options, toConsole: !options.tui })
    } catch (error) {
      if (error instanceof LogFileError) throw new ConfigError(error.message)
      throw error
    }
    const server = await startServer(options, { handleSignals: true })
    if (!options.tui) return server.exitCode
    const { runMonitor } = await import('../monitor/run-monitor.tsx')
    await runMonitor({ url: server.url, refreshMs: 250, timeoutMs: 5_000, err: (text) => process.stderr.write(`${text}\n`) })
    server.shutdown('tui-quit')
    return server.exitCode
  },
})
