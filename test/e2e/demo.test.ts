import { describe, expect, test } from 'bun:test'
import { join } from 'node:path'
import { readLine } from '../helpers/lines.ts'
import { freePort } from '../helpers/ports.ts'

describe('npm run demo', () => {
  test('behavior: it replays the same historical reads cold then warm: upstream calls, then none, MISS then HIT', async () => {
    const demo = Bun.spawn([process.execPath, join(import.meta.dir, '../../scripts/demo.ts')], {
      stdout: 'pipe',
      stderr: 'pipe',
      env: { ...process.env, EDB_PROXY_PORT: String(freePort()) },
    })
    const output: string[] = []
    try {
      const warm = await readLine(
        demo.stdout as ReadableStream<Uint8Array>,
        /warm:\s+(\d+) upstream calls.*x-cache: (.*)/,
        60_000,
        output,
      )
      const cold = output.join('').match(/cold:\s+(\d+) upstream calls.*x-cache: (.*)/)!
      expect([Number(cold[1]), cold[2]!.trim()]).toEqual([15, '15 MISS'])
      expect([Number(warm[1]), warm[2]!.trim()]).toEqual([0, '15 HIT'])
    } finally {
      demo.kill('SIGTERM')
      await demo.exited
    }
    // Stopped while it was still talking to them, the demo leaves neither its anvil nor its proxy behind.
    const anvilUrl = output.join('').match(/anvil:\s+(http:\S+)/)?.[1]
    expect(anvilUrl).toBeDefined()
    const proxyUrl = output.join('').match(/proxy:\s+(http:\S+)/)?.[1] as string
    for (const url of [anvilUrl as string, proxyUrl])
      expect(
        await fetch(url, { method: 'POST', body: '{}' }).then(
          () => 'up',
          () => 'gone',
        ),
      ).toBe('gone')
  }, 90_000)
})
