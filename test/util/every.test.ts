import { describe, expect, test } from 'bun:test'
import { every } from '../../src/util/every.ts'

describe('every', () => {
  test('default: runs repeatedly until stopped, and stopping twice is harmless', async () => {
    let runs = 0
    const timer = every(1, () => runs++)
    while (runs < 3) await Bun.sleep(1)
    timer.stop()
    timer.stop()
    const stoppedAt = runs
    await Bun.sleep(20)
    expect(runs).toBe(stoppedAt)
  })

  test('behavior: a background timer does not keep the process alive; keepAlive does', async () => {
    const script = (keepAlive: boolean) =>
      `import { every } from ${JSON.stringify(`${import.meta.dir}/../../src/util/every.ts`)}\nlet n = 0\nevery(5, () => { if (++n === 3) { console.log('ticked'); process.exit(0) } }, { keepAlive: ${keepAlive} })`
    const run = (keepAlive: boolean) =>
      Bun.spawnSync([process.execPath, '-e', script(keepAlive)], { stdout: 'pipe' }).stdout.toString()
    expect([run(false), run(true)]).toEqual(['', 'ticked\n'])
  })
})
