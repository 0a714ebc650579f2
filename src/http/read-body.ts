/** The body exceeds the configured limit (answered with HTTP 413). */
export class BodyTooLargeError extends Error {
  override name = 'BodyTooLargeError'
  constructor(readonly maxBytes: number) {
    super(`Request body too large: the limit is ${maxBytes} bytes`)
  }
}

/** Read a request body as UTF-8 text, refusing more than `maxBytes` without buffering it all. */
export async function readBodyText(request: Request, maxBytes: number): Promise<string> {
  const declared = Number(request.headers.get('content-length') ?? Number.NaN)
  if (declared > maxBytes) throw new BodyTooLargeError(maxBytes)
  if (Number.isFinite(declared) || request.body === null) return request.text()
  const decoder = new TextDecoder()
  let text = ''
  let total = 0
  for await (const chunk of request.body as unknown as AsyncIterable<Uint8Array>) {
    total += chunk.byteLength
    if (total > maxBytes) throw new BodyTooLargeError(maxBytes)
    text += decoder.decode(chunk, { stream: true })
  }
  return text + decoder.decode()
}
