import { describe, expect, test } from 'bun:test'
import { join } from 'node:path'
import { readLine } from '../helpers/lines.ts'
import { freePort } from '../helpers/ports.ts'

describe('npm run demo', () => {
  test('behavior: it replays the same historical reads cold then warm, then a busy block’s first and second run against direct', async () => {
    const demo = Bun.spawn([process.execPath, join(import.meta.dir, '../../scripts/demo.ts')], {
      stdout: 'pipe',
      stderr: 'pipe',
      env: { ...process.env, EDB_PROXY_PORT: String(freePort()) },
    })
    const output: string[] = []
    try {
      await readLine(demo.stdout as ReadableStream<Uint8Array>, /same output|OUTPUT DIFFERS/, 80_000, output)
      const text = output.join('')
      const cold = text.match(/cold:\s+(\d+) upstream calls.*x-cache: (.*)/)!
      const warm = text.match(/warm:\s+(\d+) upstream calls.*x-cache: (.*)/)!
      expect([Number(cold[1]), cold[2]!.trim()]).toEqual([15, '15 MISS'])
      expect([Number(warm[1]), warm[2]!.trim()]).toEqual([0, '15 HIT'])
      // The first run of a busy block's replay: direct, then through the proxy (the prefetch), then again.
      const requests = (name: string) => Number(text.match(new RegExp(`${name}\\s+(\\d+) upstream requests`))?.[1])
      expect({
        direct: requests('direct') > 100,
        first: requests('first run through the proxy') <= 20,
        second: requests('second run through the proxy') <= 2,
        same: text.includes('(same output;'),
      }).toEqual({ direct: true, first: true, second: true, same: true })
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
  }, 120_000)
})
