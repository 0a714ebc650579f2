import { afterAll, afterEach, beforeAll, describe, expect, test } from 'bun:test'
import { SOURCE_COMMAND, serverArgs, startProxy, type TestProxy } from '../helpers/proxy.ts'
import { type ScriptedUpstream, startScriptedUpstream } from '../helpers/upstream.ts'
import { waitFor } from '../helpers/wait.ts'
import { connectWs } from '../helpers/ws-client.ts'

/** Each dashboard runs in its own tmux server (its own socket), at a fixed size. */
let node: ScriptedUpstream
let proxy: TestProxy
let session = 0

const socketOf = (name: string) => `edb-monitor-test-${process.pid}-${name}`
const tmux = (name: string, ...args: string[]) =>
  Bun.spawnSync(['tmux', '-L', socketOf(name), ...args], { stdout: 'pipe', stderr: 'pipe' })
const screen = (name: string) => tmux(name, 'capture-pane', '-p', '-t', name).stdout.toString()
const keys = (name: string, ...sequence: string[]) => tmux(name, 'send-keys', '-t', name, ...sequence)
const opened: string[] = []

function openMonitor(url: string, width = 100, args = ['monitor', url, '--refresh-interval', '100']): string {
  const name = `s${session++}`
  const command = [...SOURCE_COMMAND, ...args].map((part) => `'${part}'`).join(' ')
  // Ink draws only a final frame when it believes it runs in CI; this terminal is a real one.
  tmux(
    name,
    'new-session',
    '-d',
    '-s',
    name,
    '-x',
    String(width),
    '-y',
    '24',
    `env -u CI ${command}; echo EXIT=$?; sleep 60`,
  )
  opened.push(name)
  return name
}

/** The first background refresh has drawn the charts: the dashboard's effects, keys included, are live. */
const ready = (name: string) =>
  waitFor(
    () => screen(name).includes('hit rate %') && !screen(name).includes('(collecting)'),
    `the first refresh:\n${screen(name)}`,
    15_000,
  )

const shows = (name: string, text: string) =>
  waitFor(() => screen(name).includes(text), `"${text}" on the screen:\n${screen(name)}`, 15_000)

beforeAll(async () => {
  node = startScriptedUpstream((call) => {
    if (call.method === 'eth_chainId') return '0x1'
    if (call.method === 'eth_getBlockByNumber') return { number: '0x100' }
    return '0x64'
  })
  proxy = await startProxy({ rpcUrls: [node.url], devChain: 'no' })
  await proxy.cacheReady
})
afterEach(() => {
  for (const name of opened.splice(0)) tmux(name, 'kill-server')
})
afterAll(async () => {
  await proxy.stop()
  await node.stop()
})

describe('monitor', () => {
  test('default', async () => {
    const name = openMonitor(proxy.url)
    await shows(name, 'Overview  Providers  Cache  Methods  Instances  Streams')
    await shows(name, 'providers   1 healthy of 1')
  })

  test('behavior: Tab and Shift-Tab switch tabs, in both directions and around', async () => {
    const name = openMonitor(proxy.url)
    await ready(name)
    keys(name, 'Tab')
    await shows(name, 'latency')
    await shows(name, 'spend/s')
    await shows(name, '429s  state from')
    // What was learned of the selected provider (SPEC §6): anvil does not describe its history.
    await shows(name, 'learned: eth_capabilities not-served')
    await shows(name, node.url.replace(/\/$/, ''))
    keys(name, 'Tab')
    await shows(name, 'store')
    await shows(name, 'keys stored')
    await shows(name, 'of state proven')
    keys(name, 'BTab')
    await shows(name, 'requests  success')
    keys(name, 'BTab')
    await shows(name, 'version')
    keys(name, 'BTab')
    await shows(name, 'connections')
    keys(name, 'BTab')
    await shows(name, 'no registered debugger instances')
  })

  test('behavior: the Streams tab shows connections, subscriptions by kind, where the heads come from and the feeds', async () => {
    const socket = await connectWs(proxy.url)
    try {
      expect((await socket.call('eth_subscribe', ['newHeads'])).result).toMatch(/^0x/)
      expect(
        (await socket.call('eth_subscribe', ['logs', { address: '0x00000000000000000000000000000000000000e1' }]))
          .result,
      ).toMatch(/^0x/)
      const name = openMonitor(proxy.url, 140)
      await ready(name)
      keys(name, 'BTab')
      await shows(name, 'connections 1 open')
      await shows(name, 'subscribed  newHeads 1 · logs 1 · pending 0')
      await shows(name, 'heads from  polling over HTTP')
      await shows(name, '0x00000000000000000000000000000000000000e1')
    } finally {
      socket.close()
    }
  })

  test('behavior: ↑/↓ move the selected row; r refreshes at once', async () => {
    // Busier than the two eth_subscribe calls of the Streams test above (subscriptions are counted calls too).
    await proxy.call('x_first', [])
    await proxy.call('x_first', [])
    await proxy.call('x_first', [])
    for (let n = 0; n < 4; n++) await proxy.call('x_second', [])
    const name = openMonitor(proxy.url, 100, ['monitor', proxy.url, '--refresh-interval', '60000'])
    await shows(name, 'version')
    const selected = () => {
      const styled = tmux(name, 'capture-pane', '-p', '-e', '-t', name).stdout.toString().split('\n')
      return styled
        .find((line) => /\u001b\[(?:\d+;)*7m/.test(line) && line.includes('x_'))
        ?.replace(/\u001b\[[0-9;]*m/g, '')
    }
    keys(name, 'BTab')
    await shows(name, 'connections')
    keys(name, 'BTab')
    await shows(name, 'no registered debugger instances')
    keys(name, 'BTab')
    await waitFor(() => selected()?.includes('x_second'), 'the busiest method selected')
    keys(name, 'Down')
    await waitFor(() => selected()?.includes('x_first'), 'the next row selected')
    keys(name, 'Up')
    await waitFor(() => selected()?.includes('x_second'), 'the first row selected again')
    // the refresh interval is a minute: a new method shows only because r fetched now
    await proxy.call('x_third', [])
    keys(name, 'r')
    await shows(name, 'x_third')
  })

  test('behavior: c asks before clearing the cache; n cancels, y clears', async () => {
    await proxy.call('eth_getBalance', ['0x01', '0x1'])
    expect((await proxy.call('edb_cache_stats')).result.total_entries).toBe(1)
    const name = openMonitor(proxy.url)
    await ready(name)
    keys(name, 'c')
    await shows(name, 'Clear the whole cache? y to confirm')
    keys(name, 'n')
    await shows(name, 'clear cancelled')
    expect((await proxy.call('edb_cache_stats')).result.total_entries).toBe(1)
    keys(name, 'c')
    await shows(name, 'Clear the whole cache?')
    keys(name, 'y')
    await shows(name, 'cleared 1 entries')
    expect((await proxy.call('edb_cache_stats')).result.total_entries).toBe(0)
  })

  for (const [label, key] of [
    ['q', 'q'],
    ['Esc', 'Escape'],
    ['Ctrl-C', 'C-c'],
  ] as const) {
    test(`behavior: ${label} quits with exit code 0`, async () => {
      const name = openMonitor(proxy.url)
      await ready(name)
      keys(name, key)
      await shows(name, 'EXIT=0')
    })
  }

  test('behavior: long and wide method names are truncated to the terminal width, whole characters only', async () => {
    const method = `x_${'宽字符😀'.repeat(20)}`
    await proxy.call(method, [])
    const name = openMonitor(proxy.url, 60)
    await ready(name)
    keys(name, 'BTab')
    await shows(name, 'connections')
    keys(name, 'BTab')
    await shows(name, 'no registered debugger instances')
    keys(name, 'BTab')
    await shows(name, 'x_宽字符')
    for (const line of screen(name).split('\n')) {
      expect(Bun.stringWidth(line)).toBeLessThanOrEqual(60)
      expect(line).not.toContain('\uFFFD')
    }
  })

  test('behavior: server --tui shows the dashboard of the proxy it runs; quitting stops the proxy with 0', async () => {
    const name = openMonitor('', 100, serverArgs('', '--tui'))
    await ready(name)
    await shows(name, 'providers   0 healthy of 0')
    expect(screen(name)).not.toContain('listening on')
    keys(name, 'q')
    await shows(name, 'EXIT=0')
  })

  test('behavior: an unreachable proxy is one clear line and a non-zero exit', async () => {
    const server = Bun.serve({ hostname: '127.0.0.1', port: 0, fetch: () => new Response() })
    const deadPort = server.port
    server.stop(true)
    const child = Bun.spawn([...SOURCE_COMMAND, 'monitor', `http://127.0.0.1:${deadPort}`, '--timeout', '2'], {
      stdout: 'pipe',
      stderr: 'pipe',
    })
    expect(await child.exited).toBe(1)
    expect(await new Response(child.stderr).text()).toStartWith(
      `error: cannot reach the proxy at http://127.0.0.1:${deadPort}: `,
    )
  })

  test('behavior: bad monitor flags are one line and exit 2', async () => {
    for (const [args, message] of [
      [['monitor', 'nope'], 'error: invalid value for URL: "nope" (expected an http(s) URL)'],
      [
        ['monitor', 'http://x', '--refresh-interval', '5'],
        'error: invalid value for --refresh-interval: "5" (expected an integer from 50 to 60000)',
      ],
      [['monitor', 'http://x', '--bogus'], 'error: unknown flag --bogus (see --help)'],
    ] as const) {
      const child = Bun.spawn([...SOURCE_COMMAND, ...args], { stdout: 'pipe', stderr: 'pipe' })
      expect(await child.exited).toBe(2)
      expect(await new Response(child.stderr).text()).toBe(`${message}\n`)
    }
  })
})
