import { afterAll, describe, expect, test } from 'bun:test'
import { mkdtempSync, readFileSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { rpc } from '../helpers/anvil.ts'
import { freePort } from '../helpers/ports.ts'
import { SOURCE_COMMAND, serverArgs, spawnProxy } from '../helpers/proxy.ts'
import { waitFor } from '../helpers/wait.ts'

const dir = mkdtempSync(join(tmpdir(), 'edb-logs-'))
afterAll(() => rmSync(dir, { recursive: true, force: true }))
const SECRET = '0123456789abcdef0123456789abcdef'

describe('logging', () => {
  test('default', async () => {
    const proxy = await spawnProxy(SOURCE_COMMAND, serverArgs(''))
    proxy.process.kill('SIGTERM')
    expect(await proxy.exited).toBe(0)
    expect(proxy.output.join('')).toContain('listening on http://127.0.0.1:')
  })

  test('behavior: pretty logs into a pipe are plain "HH:MM:SS level [tag] message" lines without colors', async () => {
    const proxy = await spawnProxy(SOURCE_COMMAND, serverArgs(`http://127.0.0.1:${freePort()}/`))
    await waitFor(() => proxy.output.join('').includes('did not answer eth_chainId'), 'the warning')
    proxy.process.kill('SIGTERM')
    expect(await proxy.exited).toBe(0)
    const text = proxy.output.join('')
    expect(text).toMatch(
      /^\d\d:\d\d:\d\d info {2}\[edb-rpc-proxy\] listening on http:\/\/127\.0\.0\.1:\d+ \(1 upstream providers\)$/m,
    )
    expect(text).toMatch(
      /^\d\d:\d\d:\d\d warn {2}\[edb-rpc-proxy\] http:\/\/127\.0\.0\.1:\d+ did not answer eth_chainId; it stays unhealthy until it answers$/m,
    )
    expect(text).not.toContain('\u001b[')
  })

  test('behavior: --log-format json writes one JSON object per line, also to --log-file, with no secret', async () => {
    const file = join(dir, 'proxy.log')
    const port = freePort()
    const proxy = await spawnProxy(
      SOURCE_COMMAND,
      [
        'server',
        '--port',
        String(port),
        '--rpc-urls',
        `http://127.0.0.1:${freePort()}/v3/${SECRET}`,
        '--log-format',
        'json',
        '--log-file',
        file,
      ],
      { waitForListening: false },
    )
    await waitFor(async () => (await rpc(`http://127.0.0.1:${port}`, 'edb_ping')).result, 'the proxy to answer')
    await waitFor(
      () => readFileSync(file, 'utf8').includes('did not answer eth_chainId'),
      'the warning in the log file',
    )
    for (let id = 0; id < 3; id++) await rpc(`http://127.0.0.1:${port}`, 'eth_blockNumber', [], id)
    await waitFor(() => readFileSync(file, 'utf8').includes('failing over'), 'the failover warning in the log file')
    proxy.process.kill('SIGTERM')
    expect(await proxy.exited).toBe(0)
    const lines = readFileSync(file, 'utf8')
      .trim()
      .split('\n')
      .map((line) => JSON.parse(line))
    expect(lines[0]).toMatchObject({
      level: 'info',
      tag: 'edb-rpc-proxy',
      message: expect.stringContaining('listening on'),
    })
    expect(
      lines.some(
        (line) => line.level === 'warn' && /:\d+\/<#[0-9a-f]{8}> did not answer eth_chainId/.test(line.message),
      ),
    ).toBe(true)
    expect(
      lines.some((line) => line.level === 'warn' && /:\d+\/<#[0-9a-f]{8}>: network; failing over/.test(line.message)),
    ).toBe(true)
    expect(readFileSync(file, 'utf8')).not.toContain(SECRET)
    expect(proxy.output.join('')).not.toContain(SECRET)
  })

  test('behavior: --log-level warn keeps the default level quiet', async () => {
    const port = freePort()
    const proxy = await spawnProxy(
      SOURCE_COMMAND,
      ['server', '--port', String(port), '--rpc-urls', '', '--log-level', 'warn'],
      { waitForListening: false },
    )
    await waitFor(async () => (await rpc(`http://127.0.0.1:${port}`, 'edb_ping')).result, 'the proxy to answer')
    proxy.process.kill('SIGTERM')
    expect(await proxy.exited).toBe(0)
    expect(proxy.output.join('')).toBe('')
  })
})

describe('careless operators', () => {
  test('behavior: an unwritable --log-file is one line naming it, exit 2, before anything starts', async () => {
    const proxy = await spawnProxy(SOURCE_COMMAND, serverArgs('', '--log-file', join(dir, 'no-such-dir', 'x.log')), {
      waitForListening: false,
    })
    expect(await proxy.exited).toBe(2)
    expect(proxy.output.join('').trim()).toBe(
      `error: cannot open --log-file ${join(dir, 'no-such-dir', 'x.log')} for appending: ENOENT`,
    )
  })

  test('behavior: bound beyond loopback without tokens, the proxy says what that means', async () => {
    const proxy = await spawnProxy(SOURCE_COMMAND, serverArgs('', '--host', '0.0.0.0'))
    proxy.process.kill('SIGTERM')
    expect(await proxy.exited).toBe(0)
    const output = proxy.output.join('')
    expect(output).toContain(
      'bound to 0.0.0.0, beyond this machine: any host that reaches it may make data calls (set --auth-token)',
    )
    expect(output).toContain('edb_register are refused until --admin-token is set')
  })
})
