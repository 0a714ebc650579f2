import { createWriteStream, openSync, type WriteStream } from 'node:fs'
import process from 'node:process'
import { type ConsolaReporter, createConsola, LogLevels, type LogObject } from 'consola'

/** The program's logger: startup, warnings and errors at the default level; per-call detail at debug. */
export const log = createConsola({ level: LogLevels.info }).withTag('edb-rpc-proxy')

export type LogOptions = {
  logLevel: 'silent' | 'error' | 'warn' | 'info' | 'debug'
  logFormat: 'pretty' | 'json'
  logFile?: string
  /** Write to stdout/stderr too (false while the --tui dashboard owns the terminal). @default true */
  toConsole?: boolean
}

/** The log file cannot be opened for appending. */
export class LogFileError extends Error {
  override name = 'LogFileError'
}

/**
 * Apply `--log-level`, `--log-format` and `--log-file` (called once, by the `server` command). The
 * file is opened here, before anything starts: one that cannot be written is an error, not a proxy
 * running without its log.
 */
export function configureLog({ logLevel, logFormat, logFile, toConsole = true }: LogOptions): void {
  const file = logFile === undefined ? undefined : openLogFile(logFile)
  log.level = toConsole || logFile !== undefined ? LogLevels[logLevel] : LogLevels.silent
  const fileReporters = file === undefined ? [] : [jsonReporter(file, false)]
  if (!toConsole) log.setReporters(fileReporters)
  else if (logFormat === 'json') log.setReporters([jsonReporter(file)])
  else if (!process.stdout.isTTY) log.setReporters([plainReporter(), ...fileReporters])
  else log.setReporters([...log.options.reporters, ...fileReporters])
}

function openLogFile(path: string): WriteStream {
  let fd: number
  try {
    fd = openSync(path, 'a')
  } catch (error) {
    const { code, message } = error as { code?: string; message?: string }
    throw new LogFileError(`cannot open --log-file ${path} for appending: ${code ?? message}`)
  }
  return createWriteStream(path, { fd })
}

/**
 * `HH:MM:SS level [tag] message` lines for pipes (a debugger spawning the proxy, a log collector).
 * consola's own reporter formats through `util.formatWithOptions` and `toLocaleTimeString`, whose
 * first use costs ~40 ms of start-up (SPEC §10: `edb_ping` within 150 ms of spawn).
 */
function plainReporter(): ConsolaReporter {
  return {
    log(entry: LogObject) {
      const time = entry.date.toISOString().slice(11, 19)
      const line = `${time} ${entry.type.padEnd(5)} ${entry.tag ? `[${entry.tag}] ` : ''}${messageOf(entry)}\n`
      ;(entry.level <= LogLevels.warn ? process.stderr : process.stdout).write(line)
    },
  }
}

function messageOf(entry: LogObject): string {
  return entry.args
    .map((arg) => (arg instanceof Error ? arg.message : typeof arg === 'string' ? arg : JSON.stringify(arg)))
    .join(' ')
}

/** One JSON object per line: time, level, tag, message. To the file (and stdout/stderr unless `console` is false). */
function jsonReporter(file: WriteStream | undefined, toConsole = true): ConsolaReporter {
  return {
    log(entry: LogObject) {
      const line = `${JSON.stringify({
        time: entry.date.toISOString(),
        level: entry.type,
        tag: entry.tag || undefined,
        message: messageOf(entry),
      })}\n`
      file?.write(line)
      if (toConsole) (entry.level <= LogLevels.warn ? process.stderr : process.stdout).write(line)
    },
  }
}
