import { connect, type Socket } from 'node:net'

/**
 * A WebSocket client on a bare TCP socket, for what a browser-grade client will not do: stop
 * reading (`pause`) so the server's send queue grows, send frames of any size, and show the close
 * frame's code and reason as sent.
 */
export type RawWs = {
  sendText(text: string): void
  pause(): void
  resume(): void
  /** Text frames received so far. */
  texts: string[]
  /** The close frame received, if any. */
  closeFrame(): { code: number; reason: string } | undefined
  destroy(): void
}

export async function rawWebSocket(port: number, headers: Record<string, string> = {}): Promise<RawWs> {
  const socket: Socket = connect({ host: '127.0.0.1', port })
  await new Promise<void>((resolve, reject) => {
    socket.once('connect', () => resolve())
    socket.once('error', reject)
  })
  const extra = Object.entries(headers)
    .map(([name, value]) => `${name}: ${value}\r\n`)
    .join('')
  socket.write(
    `GET / HTTP/1.1\r\nHost: 127.0.0.1:${port}\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n${extra}\r\n`,
  )
  let buffer = Buffer.alloc(0)
  let upgraded = false
  const texts: string[] = []
  let close: { code: number; reason: string } | undefined
  const handshake = Promise.withResolvers<void>()
  socket.on('data', (chunk: Buffer) => {
    buffer = Buffer.concat([buffer, chunk])
    if (!upgraded) {
      const end = buffer.indexOf('\r\n\r\n')
      if (end === -1) return
      const head = buffer.subarray(0, end).toString()
      buffer = buffer.subarray(end + 4)
      if (!head.startsWith('HTTP/1.1 101')) return handshake.reject(new Error(head.split('\r\n')[0]))
      upgraded = true
      handshake.resolve()
    }
    for (;;) {
      if (buffer.length < 2) return
      const opcode = (buffer[0] as number) & 0x0f
      let length = (buffer[1] as number) & 0x7f
      let offset = 2
      if (length === 126) {
        if (buffer.length < 4) return
        length = buffer.readUInt16BE(2)
        offset = 4
      } else if (length === 127) {
        if (buffer.length < 10) return
        length = Number(buffer.readBigUInt64BE(2))
        offset = 10
      }
      if (buffer.length < offset + length) return
      const payload = buffer.subarray(offset, offset + length)
      buffer = buffer.subarray(offset + length)
      if (opcode === 1) texts.push(payload.toString())
      if (opcode === 8)
        close = { code: payload.length >= 2 ? payload.readUInt16BE(0) : 1005, reason: payload.subarray(2).toString() }
    }
  })
  await handshake.promise
  return {
    sendText(text) {
      const payload = Buffer.from(text)
      const mask = Buffer.from([1, 2, 3, 4])
      const header =
        payload.length < 126
          ? Buffer.from([0x81, 0x80 | payload.length])
          : payload.length < 65536
            ? Buffer.from([0x81, 0x80 | 126, payload.length >> 8, payload.length & 0xff])
            : Buffer.concat([
                Buffer.from([0x81, 0x80 | 127]),
                (() => {
                  const size = Buffer.alloc(8)
                  size.writeBigUInt64BE(BigInt(payload.length))
                  return size
                })(),
              ])
      const masked = Buffer.from(payload.map((byte, index) => byte ^ (mask[index % 4] as number)))
      socket.write(Buffer.concat([header, mask, masked]))
    },
    pause: () => socket.pause(),
    resume: () => socket.resume(),
    texts,
    closeFrame: () => close,
    destroy: () => socket.destroy(),
  }
}
