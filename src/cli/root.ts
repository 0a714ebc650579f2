import { defineCommand } from 'citty'
import { VERSION } from '../version.ts'
import { monitorCommand } from './monitor.ts'
import { serverCommand } from './server.ts'

/** The `edb-rpc-proxy` command and its subcommands. */
export const rootCommand = defineCommand({
  meta: {
    name: 'edb-rpc-proxy',
    version: VERSION,
    description: 'Caching, failover JSON-RPC proxy for Ethereum-compatible chains',
  },
  subCommands: { server: serverCommand, monitor: monitorCommand },
})
