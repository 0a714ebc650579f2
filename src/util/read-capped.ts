/**
 * Read a stream of bytes as UTF-8 text, refusing more than `maxBytes`: past the cap the stream is
 * cancelled and `tooLarge()` is thrown. The chunks are kept as bytes and decoded once, so the cost is
 * linear in the size (no text built piece by piece).
 */
export async function readCapped(
  stream: ReadableStream<Uint8Array>,
  maxBytes: number,
  tooLarge: () => Error,
): Promise<string> {
  const chunks: Uint8Array[] = []
  let total = 0
  for await (const chunk of stream as unknown as AsyncIterable<Uint8Array>) {
    total += chunk.byteLength
    if (total > maxBytes) {
      await stream.cancel().catch(() => {})
      throw tooLarge()
    }
    chunks.push(chunk)
  }
  return new TextDecoder().decode(concat(chunks, total))
}

function concat(chunks: readonly Uint8Array[], total: number): Uint8Array {
  if (chunks.length === 1) return chunks[0] as Uint8Array
  const bytes = new Uint8Array(total)
  let offset = 0
  for (const chunk of chunks) {
    bytes.set(chunk, offset)
    offset += chunk.byteLength
  }
  return bytes
}
