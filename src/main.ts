#!/usr/bin/env bun
import process from 'node:process'
import { runCli } from './cli/run.ts'
import { platform } from './platform/index.ts'

/** Entry of the binary: runs the CLI; the only place that exits the process. */
const code = await runCli(process.argv.slice(2), {
  out: (text) => process.stdout.write(`${text}\n`),
  err: (text) => process.stderr.write(`${text}\n`),
  allowFetches: platform.allowFetches,
}).catch((error: unknown) => {
  process.stderr.write(`fatal: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}\n`)
  return 1
})
process.exit(code)
