import { describe, expect, test } from 'bun:test'
import { readFileSync } from 'node:fs'
import { join } from 'node:path'
import pkg from '../../package.json'
import { ServerOptionsSchema } from '../../src/config/schema.ts'
import { SOURCE_COMMAND } from '../helpers/proxy.ts'

async function run(args: string[]) {
  const child = Bun.spawn([...SOURCE_COMMAND, ...args], {
    stdout: 'pipe',
    stderr: 'pipe',
    env: { ...process.env, NO_COLOR: '1' },
  })
  const [stdout, stderr, code] = await Promise.all([
    new Response(child.stdout).text(),
    new Response(child.stderr).text(),
    child.exited,
  ])
  return { stdout, stderr, code }
}

const FLAGS = [
  '--host',
  '--port',
  '--rpc-urls',
  '--max-cache-items',
  '--cache-dir',
  '--cache-save-interval',
  '--max-failures',
  '--health-check-interval',
  '--grace-period',
  '--heartbeat-interval',
  '--tui',
]

describe('edb-rpc-proxy CLI', () => {
  test('default', async () => {
    const { stdout, code } = await run(['--help'])
    expect(code).toBe(0)
    expect(stdout).toContain('USAGE')
    expect(stdout).toContain('server')
  })

  test("behavior: the README's flag table says what --help says, for every flag it lists", async () => {
    const readme = readFileSync(join(import.meta.dir, '../../README.md'), 'utf8')
    const plain = (text: string) => text.replaceAll('`', '').toLowerCase()
    const { stdout } = await run(['server', '--help'])
    for (const [name, schema] of Object.entries(ServerOptionsSchema.properties)) {
      const flag = `--${name.replace(/[A-Z]/g, (letter) => `-${letter.toLowerCase()}`)}`
      const row = readme.split('\n').find((line) => line.startsWith(`| \`${flag}\` |`))
      expect({ flag, listed: row !== undefined }).toEqual({ flag, listed: true })
      if (flag !== '--tui') continue
      const meaning = row!.split('|')[3]!.trim()
      expect(plain(meaning)).toBe(plain(schema.description!))
      expect(stdout).toContain(schema.description!)
    }
  })

  test('behavior: server --help lists every reference flag with its default', async () => {
    const { stdout, code } = await run(['server', '--help'])
    expect(code).toBe(0)
    for (const flag of FLAGS) expect(stdout).toContain(flag)
    expect(stdout).toContain('(default: 8546)')
    expect(stdout).toContain('(default: 1024000)')
    expect(stdout).toContain('[env EDB_PROXY_GRACE_PERIOD]')
  })

  test('behavior: --version at every level', async () => {
    for (const args of [['--version'], ['-V'], ['server', '--version']]) {
      expect(await run(args)).toEqual({ stdout: `edb-rpc-proxy ${pkg.version}\n`, stderr: '', code: 0 })
    }
  })

  const bad: [string[], string][] = [
    [['server', '--port', '70000'], 'error: invalid value for --port: "70000" (expected an integer from 0 to 65535)'],
    [['server', '--port=-5'], 'error: invalid value for --port: "-5" (expected an integer from 0 to 65535)'],
    [
      ['server', '--grace-period', '-1'],
      'error: invalid value for --grace-period: "-1" (expected an integer from 0 to 31536000)',
    ],
    [
      ['server', '--heartbeat-interval', 'soon'],
      'error: invalid value for --heartbeat-interval: "soon" (expected an integer from 1 to 86400)',
    ],
    [
      ['server', '--rpc-urls', 'localhost:8545'],
      'error: invalid value for --rpc-urls: "<localhost: URL #bf603f78>" (expected a comma-separated list of http(s) URLs, or "" for none)',
    ],
    [
      ['server', '--max-cache-items', '1e3'],
      'error: invalid value for --max-cache-items: "1e3" (expected an integer from 0 to 1000000000)',
    ],
    [['server', '--port'], 'error: invalid value for --port: "" (expected an integer from 0 to 65535)'],
    [['server', '--bogus', '1'], 'error: unknown flag --bogus (see --help)'],
    [['server', 'extra'], 'error: unexpected argument "extra" (see --help)'],
    [['serve'], 'error: unknown command "serve"'],
  ]
  for (const [args, message] of bad) {
    test(`behavior: ${args.join(' ')} → one line naming the problem, exit 2`, async () => {
      const { stdout, stderr, code } = await run(args)
      expect(code).toBe(2)
      expect(stdout).toBe('')
      expect(stderr).toBe(`${message}\n`)
    })
  }

  test('behavior: a bad environment value names the variable, exit 2', async () => {
    const child = Bun.spawn([...SOURCE_COMMAND, 'server'], {
      stdout: 'pipe',
      stderr: 'pipe',
      env: { ...process.env, EDB_PROXY_PORT: 'x' },
    })
    expect(await child.exited).toBe(2)
    expect(await new Response(child.stderr).text()).toBe(
      'error: invalid value for EDB_PROXY_PORT: "x" (expected an integer from 0 to 65535)\n',
    )
  })

  test('behavior: a port already in use is one line and exit 1', async () => {
    const holder = Bun.serve({ hostname: '127.0.0.1', port: 0, fetch: () => new Response() })
    try {
      const { stderr, code } = await run(['server', '--port', String(holder.port), '--rpc-urls', ''])
      expect(code).toBe(1)
      expect(stderr).toBe(`error: cannot listen on 127.0.0.1:${holder.port}: the address is already in use\n`)
    } finally {
      holder.stop(true)
    }
  })

  test('behavior: no command prints the usage and exits 2', async () => {
    const { stderr, code } = await run([])
    expect(code).toBe(2)
    expect(stderr).toContain('USAGE')
    expect(stderr.trim().split('\n').at(-1)).toBe('error: a command is required')
  })
})
