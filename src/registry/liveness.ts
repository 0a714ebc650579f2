import { platform } from '../platform/index.ts'

/** Whether a debugger's process still exists (`process.kill(pid, 0)`). */
export function isInstanceAlive(pid: number): boolean {
  return pid > 0 && platform.isProcessAlive(pid)
}

/** Whether a live id is a thread rather than a debugger's process (evicted first when the registry is full). */
export function isThreadOfAnother(pid: number): boolean {
  return platform.isThreadId(pid)
}
