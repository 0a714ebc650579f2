import { afterAll, beforeAll, describe, expect, test } from 'bun:test'
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { type Anvil, startAnvil } from '../helpers/anvil.ts'
import { ensureDebianCommand } from '../helpers/debian.ts'
import { SOURCE_COMMAND, serverArgs, startProxy } from '../helpers/proxy.ts'

const dir = mkdtempSync(join(tmpdir(), 'edb-tls-'))
const file = (name: string) => join(dir, name)
let anvil: Anvil

/** A self-signed certificate for 127.0.0.1 and localhost, and its key, made with openssl. */
function makeCertificate(name: string) {
  const openssl = ensureDebianCommand('openssl')
  const made = Bun.spawnSync(
    [
      openssl,
      'req',
      '-x509',
      '-newkey',
      'ec',
      '-pkeyopt',
      'ec_paramgen_curve:prime256v1',
      '-nodes',
      '-days',
      '1',
      '-subj',
      '/CN=localhost',
      '-addext',
      'subjectAltName=IP:127.0.0.1,DNS:localhost',
      '-keyout',
      file(`${name}.key`),
      '-out',
      file(`${name}.pem`),
    ],
    { stdout: 'ignore', stderr: 'pipe' },
  )
  if (made.exitCode !== 0) throw new Error(made.stderr.toString())
}

beforeAll(async () => {
  makeCertificate('server')
  makeCertificate('other')
  writeFileSync(file('garbage.pem'), 'not a certificate\n')
  anvil = await startAnvil()
}, 120_000)
afterAll(async () => {
  await anvil.stop()
  rmSync(dir, { recursive: true, force: true })
})

/** Run the CLI with `args` until it exits (for startup errors); its code and stderr. */
function cli(args: string[]) {
  const run = Bun.spawnSync([...SOURCE_COMMAND, ...serverArgs('', ...args)], {
    stdout: 'pipe',
    stderr: 'pipe',
    timeout: 20_000,
  })
  return { code: run.exitCode, stderr: run.stderr.toString() }
}

describe('TLS', () => {
  test('default', async () => {
    const proxy = await startProxy({ rpcUrls: [anvil.url], tlsCert: file('server.pem'), tlsKey: file('server.key') })
    try {
      expect(proxy.url).toStartWith('https://127.0.0.1:')
      const response = await fetch(proxy.url, {
        method: 'POST',
        body: '{"jsonrpc":"2.0","id":1,"method":"edb_ping"}',
        tls: { ca: await Bun.file(file('server.pem')).text() },
      } as RequestInit)
      expect(((await response.json()) as any).result.status).toBe('ok')
    } finally {
      await proxy.stop()
    }
  })

  test('behavior: HTTPS and WSS on the same port: curl --cacert, and viem over HTTPS and WSS trusting the certificate', async () => {
    const proxy = await startProxy({ rpcUrls: [anvil.url], tlsCert: file('server.pem'), tlsKey: file('server.key') })
    try {
      await proxy.cacheReady
      const curl = ensureDebianCommand('curl')
      // Not spawnSync: the proxy answering curl runs in this very process.
      const answer = Bun.spawn(
        [
          curl,
          '-s',
          '--cacert',
          file('server.pem'),
          '-d',
          '{"jsonrpc":"2.0","id":1,"method":"eth_chainId"}',
          proxy.url,
        ],
        {
          stdout: 'pipe',
        },
      )
      expect(JSON.parse(await new Response(answer.stdout).text())).toEqual({ jsonrpc: '2.0', id: 1, result: '0x7a69' })
      const client = Bun.spawn(
        [process.execPath, join(import.meta.dir, '../helpers/tls-client.ts'), proxy.url, anvil.url],
        {
          stdout: 'pipe',
          stderr: 'pipe',
          env: { ...process.env, NODE_EXTRA_CA_CERTS: file('server.pem') },
        },
      )
      const [output, errors] = await Promise.all([
        new Response(client.stdout).text(),
        new Response(client.stderr).text(),
      ])
      expect({ code: await client.exited, errors: errors.slice(-500) }).toEqual({ code: 0, errors: '' })
      const result = JSON.parse(output)
      expect(result.chainId).toBe(31337)
      // A block mined after the subscription came over WSS.
      expect(Number.isInteger(result.block)).toBe(true)
    } finally {
      await proxy.stop()
    }
  }, 30_000)

  const cases: [string, string[], string][] = [
    [
      'a missing certificate file',
      ['--tls-cert', file('absent.pem'), '--tls-key', file('server.key')],
      `error: --tls-cert ${file('absent.pem')}: cannot read it (no such file)`,
    ],
    [
      'a missing key file',
      ['--tls-cert', file('server.pem'), '--tls-key', file('absent.key')],
      `error: --tls-key ${file('absent.key')}: cannot read it (no such file)`,
    ],
    [
      'a directory as the certificate',
      ['--tls-cert', dir, '--tls-key', file('server.key')],
      `error: --tls-cert ${dir}: cannot read it (a directory, not a file)`,
    ],
    [
      'a file that is no certificate',
      ['--tls-cert', file('garbage.pem'), '--tls-key', file('server.key')],
      `error: --tls-cert ${file('garbage.pem')}: not a PEM certificate`,
    ],
    [
      'a certificate as the key',
      ['--tls-cert', file('server.pem'), '--tls-key', file('server.pem')],
      `error: --tls-key ${file('server.pem')}: not a PEM private key`,
    ],
    [
      'a key of another certificate',
      ['--tls-cert', file('server.pem'), '--tls-key', file('other.key')],
      `error: --tls-key ${file('other.key')} is not the private key of --tls-cert ${file('server.pem')}`,
    ],
    [
      'a certificate without its key',
      ['--tls-cert', file('server.pem')],
      'error: --tls-cert needs --tls-key: give both, or neither for plain HTTP',
    ],
    [
      'a key without its certificate',
      ['--tls-key', file('server.key')],
      'error: --tls-key needs --tls-cert: give both, or neither for plain HTTP',
    ],
  ]
  for (const [what, args, message] of cases) {
    test(`behavior: ${what} is a one-line startup error naming it, exit 2`, () => {
      const { code, stderr } = cli(args)
      expect(code).toBe(2)
      expect(stderr.trim().split('\n')).toHaveLength(1)
      expect(stderr.trim()).toStartWith(message)
    })
  }
})
