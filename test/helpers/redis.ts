import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { ensureDebianCommand } from './debian.ts'
import { freePort } from './ports.ts'

/** A real redis-server (Debian's package) on a free port with its own directory, for tests. */
export type TestRedis = {
  url: string
  port: number
  /** A client to look inside. */
  client(): Bun.RedisClient
  /** SIGKILL it (as a crash would); `start` brings it back on the same port. */
  kill(): Promise<void>
  start(): Promise<void>
  stop(): Promise<void>
}

export async function startRedis({ password }: { password?: string } = {}): Promise<TestRedis> {
  const server = ensureDebianCommand('redis-server')
  const port = freePort()
  const dir = mkdtempSync(join(tmpdir(), 'edb-redis-'))
  const auth = password === undefined ? [] : ['--requirepass', password]
  let child: ReturnType<typeof Bun.spawn> | undefined
  const url =
    password === undefined ? `redis://127.0.0.1:${port}` : `redis://:${encodeURIComponent(password)}@127.0.0.1:${port}`
  const start = async () => {
    child = Bun.spawn(
      [
        server,
        '--port',
        String(port),
        '--bind',
        '127.0.0.1',
        '--dir',
        dir,
        '--save',
        '',
        '--appendonly',
        'no',
        ...auth,
      ],
      {
        stdout: 'ignore',
        stderr: 'ignore',
      },
    )
    for (let tries = 0; tries < 200; tries++) {
      const probe = new Bun.RedisClient(url, { connectionTimeout: 200, autoReconnect: false })
      try {
        await probe.connect()
        await probe.send('PING', [])
        return
      } catch {
        await Bun.sleep(25)
      } finally {
        probe.close()
      }
    }
    throw new Error(`redis-server did not start on port ${port}`)
  }
  await start()
  const kill = async () => {
    child?.kill('SIGKILL')
    await child?.exited
  }
  return {
    url,
    port,
    client: () => new Bun.RedisClient(url),
    kill,
    start,
    async stop() {
      await kill()
      rmSync(dir, { recursive: true, force: true })
    },
  }
}
