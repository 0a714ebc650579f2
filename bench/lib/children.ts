import { type Output, watchOutput } from './output.ts'

/** A process started by the benchmark, its stdout and stderr read continuously. */
export type Child = {
  name: string
  pid: number
  stdout: Output
  stderr: Output
  exited: Promise<number>
  /** SIGTERM, then SIGKILL if it is still running after `graceMs`. */
  stop(graceMs?: number): Promise<void>
}

/** Where a child runs: `core` pins it with taskset when pinning is on. */
export type StartOptions = { core?: number; env?: Record<string, string | undefined> }

/** Every child started through it, so all of them can be ended on success, error or Ctrl-C. */
export type Children = {
  start(name: string, command: string[], options?: StartOptions): Child
  /** Stop every child still running, in reverse start order. */
  stopAll(): Promise<void>
  /** Synchronous last resort for `process.on('exit')`: SIGKILL whatever is left. */
  killAll(): void
}

/** Track children; with `pin`, `start` prefixes the command with `taskset -c <core>`. */
export function createChildren({ pin }: { pin: boolean }): Children {
  const running = new Map<number, { child: Child; kill(signal: NodeJS.Signals): void }>()
  return {
    start(name, command, { core, env } = {}) {
      const pinned = pin && core !== undefined ? ['taskset', '-c', String(core), ...command] : command
      const subprocess = Bun.spawn(pinned, { stdin: 'ignore', stdout: 'pipe', stderr: 'pipe', env: env ?? Bun.env })
      const child: Child = {
        name,
        pid: subprocess.pid,
        stdout: watchOutput(subprocess.stdout),
        stderr: watchOutput(subprocess.stderr),
        exited: subprocess.exited,
        stop: (graceMs = 3_000) => stopProcess(subprocess, graceMs),
      }
      running.set(subprocess.pid, { child, kill: (signal) => subprocess.kill(signal) })
      void subprocess.exited.then(() => running.delete(subprocess.pid))
      return child
    },
    async stopAll() {
      for (const { child } of [...running.values()].reverse()) await child.stop()
    },
    killAll() {
      for (const { kill } of running.values()) kill('SIGKILL')
    },
  }
}

async function stopProcess(subprocess: Bun.Subprocess, graceMs: number): Promise<void> {
  if (subprocess.exitCode !== null || subprocess.signalCode !== null) return
  subprocess.kill('SIGTERM')
  const timer = setTimeout(() => subprocess.kill('SIGKILL'), graceMs)
  await subprocess.exited
  clearTimeout(timer)
}
