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
