/**
 * Read a process's output until a line matches `pattern`; the rest keeps flowing into `sink`
 * so the pipe never fills. Rejects after `timeoutMs` with everything read so far.
 */
export async function readLine(
  stream: ReadableStream<Uint8Array>,
  pattern: RegExp,
  timeoutMs: number,
  sink: TextSink = [],
): Promise<RegExpMatchArray> {
  const reader = stream.getReader() as ReadableStreamDefaultReader<Uint8Array>
  const decoder = new TextDecoder()
  let buffer = ''
  const deadline = Date.now() + timeoutMs
  while (Date.now() < deadline) {
    const chunk = await Promise.race([
      reader.read(),
      Bun.sleep(Math.max(0, deadline - Date.now())).then(() => undefined),
    ])
    if (chunk === undefined || chunk.done) break
    buffer += decoder.decode(chunk.value, { stream: true })
    const match = buffer.match(pattern)
    if (match) {
      drain(reader, decoder, sink, buffer)
      return match
    }
  }
  reader.releaseLock()
  throw new Error(`no line matching ${pattern} within ${timeoutMs} ms; output so far:\n${buffer}`)
}

/** Where output goes once the line is found (an array collects it). */
export type TextSink = { push(text: string): unknown }

function drain(reader: ReadableStreamDefaultReader<Uint8Array>, decoder: TextDecoder, sink: TextSink, seen: string) {
  sink.push(seen)
  void (async () => {
    for (;;) {
      const { done, value } = await reader.read()
      if (done) return
      sink.push(decoder.decode(value, { stream: true }))
    }
  })().catch(() => {})
}
