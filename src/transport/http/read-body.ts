import { BodyTooLargeError } from '../../rpc/errors.ts'

/** Read a request body as UTF-8 text, refusing more than `maxBytes` without buffering it all. */
export function readBodyText(request: Request, maxBytes: number): Promise<string> {
  const declared = Number(request.headers.get('content-length') ?? Number.NaN)
  if (declared > maxBytes) return Promise.reject(new BodyTooLargeError(maxBytes))
  if (Number.isFinite(declared) || request.body === null) return request.text()
  return readStreamCapped(request.body, maxBytes)
}

async function readStreamCapped(body: ReadableStream<Uint8Array>, maxBytes: number): Promise<string> {
  const decoder = new TextDecoder()
  let text = ''
  let total = 0
  for await (const chunk of body as unknown as AsyncIterable<Uint8Array>) {
    total += chunk.byteLength
    if (total > maxBytes) throw new BodyTooLargeError(maxBytes)
    text += decoder.decode(chunk, { stream: true })
  }
  return text + decoder.decode()
}
