import { describe, expect, test } from 'bun:test'
import { readdirSync } from 'node:fs'
import { isInstanceAlive, isThreadOfAnother } from '../../src/registry/liveness.ts'

describe('liveness', () => {
  test('default', () => {
    expect(isInstanceAlive(process.pid)).toBe(true)
    expect(isThreadOfAnother(process.pid)).toBe(false)
  })

  test('behavior: a thread id answers signal 0 like a process, and is told apart as a thread', () => {
    const threads = readdirSync('/proc/self/task')
      .map(Number)
      .filter((tid) => tid !== process.pid)
    expect(threads.length).toBeGreaterThan(0)
    for (const tid of threads) {
      expect({ tid, alive: isInstanceAlive(tid), thread: isThreadOfAnother(tid) }).toEqual({
        tid,
        alive: true,
        thread: true,
      })
    }
  })

  test('behavior: a pid that does not exist is neither alive nor a thread', () => {
    expect(isInstanceAlive(2 ** 31 - 2)).toBe(false)
    expect(isThreadOfAnother(2 ** 31 - 2)).toBe(false)
  })
})
