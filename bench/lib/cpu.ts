import { readdirSync, readFileSync } from 'node:fs'

const TICKS_PER_SECOND = 100

/**
 * CPU time (user + system) used so far by a process and all its descendants (nginx's workers),
 * in milliseconds, from /proc. Taken before and after a wrk run, it gives CPU per request: unlike
 * throughput, it does not depend on what else shares the core.
 */
export function treeCpuMs(pid: number): number {
  let ticks = 0
  for (const id of descendantsAndSelf(pid)) {
    try {
      const stat = readFileSync(`/proc/${id}/stat`, 'utf8')
      const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ')
      ticks += Number(fields[11]) + Number(fields[12])
    } catch {
      // the process ended
    }
  }
  return (ticks * 1000) / TICKS_PER_SECOND
}

function descendantsAndSelf(pid: number): number[] {
  const all = [pid]
  for (let index = 0; index < all.length; index++) {
    try {
      for (const task of readdirSync(`/proc/${all[index]}/task`)) {
        const children = readFileSync(`/proc/${all[index]}/task/${task}/children`, 'utf8').trim()
        if (children) all.push(...children.split(' ').map(Number))
      }
    } catch {
      // gone, or no /proc
    }
  }
  return all
}
