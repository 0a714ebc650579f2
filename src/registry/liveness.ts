import { platform } from '../platform/index.ts'

/** Whether a debugger's process still exists (`process.kill(pid, 0)`). */
export function isInstanceAlive(pid: number): boolean {
  return pid > 0 && platform.isProcessAlive(pid)
}
