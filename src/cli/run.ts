import { type CommandDef, renderUsage, runCommand } from 'citty'
import { ConfigError } from '../config/load.ts'
import { ListenError } from '../platform/index.ts'
import { VERSION } from '../version.ts'
import type { CommandData } from './command-data.ts'
import { rootCommand } from './root.ts'

/** Where the CLI writes, and what it may do to the process; injected so tests and `main.ts` decide. */
export type CliIo = {
  out: (text: string) => void
  err: (text: string) => void
  /** Raise the runtime's cap on concurrent fetches (may re-execute the process); only the real entry passes it. */
  allowFetches?: (count: number) => number
}

/** Exit code for usage errors and bad flag values (SPEC §2). */
export const USAGE_EXIT_CODE = 2

/**
 * Run the CLI: `--help` and `--version` at every level, one subcommand, one-line errors with
 * exit code 2 for anything the user typed wrong. Resolves with the process exit code.
 */
export async function runCli(rawArgs: string[], io: CliIo): Promise<number> {
  const subCommands = rootCommand.subCommands as Record<string, CommandDef>
  const subIndex = rawArgs.findIndex((arg) => !arg.startsWith('-'))
  const name = subIndex === -1 ? undefined : rawArgs[subIndex]
  const sub = name === undefined ? undefined : subCommands[name]
  const flags = subIndex === -1 ? rawArgs : rawArgs.slice(0, subIndex)
  if (rawArgs.includes('--help') || rawArgs.includes('-h')) {
    io.out(await renderUsage(sub ?? rootCommand, sub ? rootCommand : undefined))
    return 0
  }
  if (rawArgs.includes('--version') || rawArgs.includes('-V')) {
    io.out(`edb-rpc-proxy ${VERSION}`)
    return 0
  }
  if (name !== undefined && sub === undefined) return usageError(io, `unknown command ${JSON.stringify(name)}`)
  if (sub === undefined || flags.length > 0) {
    io.err(await renderUsage(rootCommand))
    return usageError(io, flags.length > 0 ? `unexpected ${flags[0]} before the command` : 'a command is required')
  }
  try {
    const { result } = await runCommand(sub, {
      rawArgs: rawArgs.slice(subIndex + 1),
      data: { allowFetches: io.allowFetches } satisfies CommandData,
    })
    return typeof result === 'number' ? result : 0
  } catch (error) {
    if (error instanceof ConfigError || (error instanceof Error && error.name === 'CLIError')) {
      return usageError(io, error.message)
    }
    if (error instanceof ListenError) {
      io.err(`error: ${error.message}`)
      return 1
    }
    throw error
  }
}

function usageError(io: CliIo, message: string): number {
  io.err(`error: ${message}`)
  return USAGE_EXIT_CODE
}
