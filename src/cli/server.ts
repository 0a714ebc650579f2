import process from 'node:process'
import { defineCommand } from 'citty'
import { loadServerOptions } from '../config/load.ts'
import { startServer } from '../server.ts'
import { configureLog } from '../util/log.ts'
import { givenFlags, serverArgs } from './options-args.ts'

/** `edb-rpc-proxy server`: run the caching proxy until shut down; resolves with the exit code. */
export const serverCommand = defineCommand({
  meta: { name: 'server', description: 'Run the caching JSON-RPC proxy' },
  args: serverArgs(),
  async run({ rawArgs, args }) {
    const options = loadServerOptions({ flags: givenFlags(rawArgs, args), env: process.env })
    configureLog(options)
    const server = await startServer(options, { handleSignals: true })
    return server.exitCode
  },
})
