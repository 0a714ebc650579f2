import { describe, expect, test } from 'bun:test'
import { readCapped } from '../../src/util/read-capped.ts'

class TooLarge extends Error {}

/** A stream of the given chunks that records whether it was cancelled. */
function streamOf(chunks: Uint8Array[]) {
  const state = { cancelled: false }
  const stream = new ReadableStream<Uint8Array>({
    pull(controller) {
      const next = chunks.shift()
      if (next === undefined) controller.close()
      else controller.enqueue(next)
    },
    cancel() {
      state.cancelled = true
    },
  })
  return { stream, state }
}

describe('readCapped', () => {
  test('default: the chunks as one text, a character split across chunks included', async () => {
    const bytes = new TextEncoder().encode('{"result":"€ and ✓"}')
    const { stream } = streamOf([bytes.subarray(0, 12), bytes.subarray(12, 13), bytes.subarray(13)])
    expect(await readCapped(stream, bytes.length, () => new TooLarge())).toBe('{"result":"€ and ✓"}')
  })

  test('behavior: exactly the cap is read; an empty stream is an empty text', async () => {
    expect(await readCapped(streamOf([new Uint8Array(4).fill(0x61)]).stream, 4, () => new TooLarge())).toBe('aaaa')
    expect(await readCapped(streamOf([]).stream, 4, () => new TooLarge())).toBe('')
  })

  test("behavior: one byte past the cap throws the caller's error and cancels the stream", async () => {
    const { stream, state } = streamOf([new Uint8Array(3), new Uint8Array(2), new Uint8Array(100)])
    await expect(readCapped(stream, 4, () => new TooLarge('over 4'))).rejects.toThrow(new TooLarge('over 4'))
    expect(state.cancelled).toBe(true)
  })

  test('behavior: 8 MiB in 128 chunks is read whole, without building the text piece by piece', async () => {
    const chunk = new Uint8Array(64 * 1024).fill(0x62)
    const chunks = Array.from({ length: 128 }, () => chunk)
    const text = await readCapped(streamOf(chunks).stream, 8 * 2 ** 20, () => new TooLarge())
    expect(text.length).toBe(8 * 2 ** 20)
  })
})
