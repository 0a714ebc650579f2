import { readdirSync, readFileSync } from 'node:fs'

/**
 * CPU time used so far by a process and all its descendants (nginx's workers), in milliseconds:
 * the on-CPU nanoseconds of every thread from /proc/<pid>/task/<tid>/schedstat. Taken before and
 * after a wrk run, it gives CPU per request, which unlike throughput does not depend on what else
 * shares the core.
 */
export function treeCpuMs(pid: number): number {
  let nanoseconds = 0
  for (const id of descendantsAndSelf(pid)) {
    for (const task of listTasks(id)) {
      try {
        nanoseconds += Number(readFileSync(`/proc/${id}/task/${task}/schedstat`, 'utf8').split(' ')[0])
      } catch {
        // the thread ended
      }
    }
  }
  return nanoseconds / 1e6
}

function listTasks(pid: number): string[] {
  try {
    return readdirSync(`/proc/${pid}/task`)
  } catch {
    return []
  }
}

function descendantsAndSelf(pid: number): number[] {
  const all = [pid]
  for (let index = 0; index < all.length; index++) {
    for (const task of listTasks(all[index]!)) {
      try {
        const children = readFileSync(`/proc/${all[index]}/task/${task}/children`, 'utf8').trim()
        if (children) all.push(...children.split(' ').map(Number))
      } catch {
        // gone
      }
    }
  }
  return all
}
