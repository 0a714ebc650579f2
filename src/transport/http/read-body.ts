import { BodyTooLargeError, ShuttingDownError } from '../../rpc/errors.ts'
import { readCapped } from '../../util/read-capped.ts'

/** Read a request body as UTF-8 text, refusing more than `maxBytes` without buffering it all. */
export function readBodyText(request: Request, maxBytes: number): Promise<string> {
  const declared = Number(request.headers.get('content-length') ?? Number.NaN)
  if (declared > maxBytes) return Promise.reject(new BodyTooLargeError(maxBytes))
  if (Number.isFinite(declared) || request.body === null) return request.text()
  return readCapped(request.body, maxBytes, () => new BodyTooLargeError(maxBytes))
}

/** Bodies up to this size arrive in a packet or two: read directly, with nothing to abandon (the hit path stays lean). */
const SMALL_BODY_BYTES = 64 * 1024

/**
 * Body reads that fail with `ShuttingDownError` once `stopping` settles. A large or unsized body is
 * held in a set while it is read (not raced against `stopping`, which would keep one reaction per
 * request alive until the process stops: the soak test's memory caught that).
 */
export function createAbandonableReads(stopping: Promise<unknown>) {
  const reading = new Set<(error: Error) => void>()
  let stopped = false
  void stopping.then(() => {
    stopped = true
    for (const abandon of reading) abandon(new ShuttingDownError())
  })
  return (request: Request, maxBytes: number): Promise<string> => {
    if (stopped) return Promise.reject(new ShuttingDownError())
    if (Number(request.headers.get('content-length') ?? Number.NaN) <= SMALL_BODY_BYTES)
      return readBodyText(request, maxBytes)
    return new Promise<string>((resolve, reject) => {
      reading.add(reject)
      readBodyText(request, maxBytes).then(
        (text) => {
          reading.delete(reject)
          resolve(text)
        },
        (error) => {
          reading.delete(reject)
          reject(error)
        },
      )
    })
  }
}
