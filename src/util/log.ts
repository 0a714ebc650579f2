import { createWriteStream, type WriteStream } from 'node:fs'
import process from 'node:process'
import { createConsola, LogLevels, type ConsolaReporter, type LogObject } from 'consola'

/** The program's logger: startup, warnings and errors at the default level; per-call detail at debug. */
export const log = createConsola({ level: LogLevels.info }).withTag('edb-rpc-proxy')

export type LogOptions = {
  logLevel: 'silent' | 'error' | 'warn' | 'info' | 'debug'
  logFormat: 'pretty' | 'json'
  logFile?: string
  /** Write to stdout/stderr too (false while the --tui dashboard owns the terminal). @default true */
  toConsole?: boolean
}

/** Apply `--log-level`, `--log-format` and `--log-file` (called once, by the `server` command). */
export function configureLog({ logLevel, logFormat, logFile, toConsole = true }: LogOptions): void {
  log.level = toConsole || logFile !== undefined ? LogLevels[logLevel] : LogLevels.silent
  const file = logFile === undefined ? undefined : createWriteStream(logFile, { flags: 'a' })
  if (!toConsole) log.setReporters(file === undefined ? [] : [jsonReporter(file, false)])
  else if (logFormat === 'json') log.setReporters([jsonReporter(file)])
  else if (file !== undefined) log.setReporters([...log.options.reporters, jsonReporter(file, false)])
}

/** One JSON object per line: time, level, tag, message. To the file (and stdout/stderr unless `console` is false). */
function jsonReporter(file: WriteStream | undefined, toConsole = true): ConsolaReporter {
  return {
    log(entry: LogObject) {
      const line = `${JSON.stringify({
        time: entry.date.toISOString(),
        level: entry.type,
        tag: entry.tag || undefined,
        message: entry.args.map((arg) => (arg instanceof Error ? arg.message : typeof arg === 'string' ? arg : JSON.stringify(arg))).join(' '),
      })}\n`
      file?.write(line)
      if (toConsole) (entry.level <= LogLevels.warn ? process.stderr : process.stdout).write(line)
    },
  }
}
