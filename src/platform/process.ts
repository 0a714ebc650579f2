import { readFileSync } from 'node:fs'
import os from 'node:os'
import process from 'node:process'

/** Liveness by signal 0, which both Bun and Deno implement through their Node compatibility. */
export function isProcessAlive(pid: number): boolean {
  try {
    process.kill(pid, 0)
    return true
  } catch (error) {
    return (error as { code?: string }).code === 'EPERM'
  }
}

/** The user's home directory, for `~` in paths. */
export function homeDir(): string {
  return os.homedir()
}

/**
 * Linux: whether `pid` is a thread of another process (signal 0 reaches threads too, so a thread id
 * looks like a live process). Elsewhere, or when /proc cannot say, false.
 */
export function isThreadId(pid: number): boolean {
  try {
    const tgid = /^Tgid:\s*(\d+)$/m.exec(readFileSync(`/proc/${pid}/status`, 'utf8'))?.[1]
    return tgid !== undefined && Number(tgid) !== pid
  } catch {
    return false
  }
}
