import { afterEach, describe, expect, test } from 'bun:test'
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { dirname, join } from 'node:path'
import { importSpecifiers } from '../../scripts/check-layers.ts'

const SCRIPT = join(import.meta.dir, '../..', 'scripts', 'check-layers.ts')
const roots: string[] = []

afterEach(() => {
  for (const root of roots.splice(0)) rmSync(root, { recursive: true, force: true })
})

/** Write a fixture tree (paths relative to the root) to a fresh temporary directory. */
function tree(files: Record<string, string>): string {
  const root = mkdtempSync(join(tmpdir(), 'check-layers-'))
  roots.push(root)
  for (const [path, text] of Object.entries(files)) {
    mkdirSync(dirname(join(root, path)), { recursive: true })
    writeFileSync(join(root, path), text)
  }
  return root
}

/** Run the checker on a tree, as CI does. */
function check(root: string): { code: number; lines: string[] } {
  const run = Bun.spawnSync([process.execPath, SCRIPT, root], { stdout: 'pipe', stderr: 'pipe' })
  expect(run.stderr.toString()).toBe('')
  return { code: run.exitCode, lines: run.stdout.toString().trimEnd().split('\n') }
}

describe('check-layers', () => {
  test('default: a tree that keeps the walls passes', () => {
    const root = tree({
      'src/util/every.ts': 'export const every = 1\n',
      'src/rpc/errors.ts': 'export type X = 1\n',
      'src/rpc/types.ts': "export type { X } from './errors.ts'\n",
      'src/cache/store.ts': "import type { X } from '../rpc/types.ts'\nimport { Database } from 'bun:sqlite'\n",
      'src/providers/forward.ts': "import { store } from '../cache/store.ts'\n",
      'src/http/app.ts': "import { Elysia } from 'elysia'\nimport '../providers/forward.ts'\n",
      'src/cli/root.ts': "import { defineCommand } from 'citty'\nconst lazy = () => import('../http/app.ts')\n",
    })
    expect(check(root)).toEqual({ code: 0, lines: ['check-layers: 7 files, 8 imports: ok'] })
  })

  test('behavior: a cycle between files fails and names every file in it', () => {
    const root = tree({
      'src/cache/a.ts': "import { b } from './b.ts'\nexport const a = 1\n",
      'src/cache/b.ts': "import { c } from './c.ts'\nexport const b = 1\n",
      'src/cache/c.ts': "export { a } from './a.ts'\n",
    })
    expect(check(root)).toEqual({
      code: 1,
      lines: [
        'cycle: src/cache/a.ts -> src/cache/b.ts -> src/cache/c.ts -> src/cache/a.ts',
        expect.stringContaining('1 file cycle(s)'),
      ],
    })
  })

  test('behavior: a type-only cycle counts, through `import type`, `import { type X }` and `typeof import()`', () => {
    const root = tree({
      'src/chain/a.ts': "import type { B } from './b.ts'\nexport type A = B\n",
      'src/chain/b.ts': "import { type C } from './c'\nexport type B = C\n",
      'src/chain/c.ts': "export type C = typeof import('./a.ts')\n",
    })
    expect(check(root)).toEqual({
      code: 1,
      lines: [
        'cycle: src/chain/a.ts -> src/chain/b.ts -> src/chain/c.ts -> src/chain/a.ts',
        expect.stringContaining('1 file cycle(s)'),
      ],
    })
  })

  test('behavior: a cycle between top-level parts fails with the imports that make it, even without a file cycle', () => {
    const root = tree({
      'src/pipeline.ts': "import { x } from './streams/hub.ts'\n",
      'src/streams/hub.ts': "import type { Y } from '../pipeline/types.ts'\nexport const x = 1\n",
      'src/pipeline/types.ts': 'export type Y = 1\n',
    })
    expect(check(root)).toEqual({
      code: 1,
      lines: [
        'part cycle: pipeline -> streams -> pipeline (src/pipeline.ts -> src/streams/hub.ts, src/streams/hub.ts -> src/pipeline/types.ts)',
        expect.stringContaining('0 file cycle(s), 1 part cycle(s)'),
      ],
    })
  })

  test('behavior: each wall breach is one line naming both files or the package', () => {
    const root = tree({
      'src/http/websocket.ts': 'export type Counters = 1\n',
      'src/streams/methods.ts': "import type { Counters } from '../http/websocket.ts'\n",
      'src/cache/integrity.ts': "import { NOT_HERE } from '../providers/forward.ts'\n",
      'src/providers/forward.ts': "import { Elysia } from 'elysia'\nexport const NOT_HERE = 1\n",
      'src/metrics/prometheus.ts': "import type { Hub } from '../streams/hub.ts'\n",
      'src/streams/hub.ts': 'export type Hub = 1\n',
      'src/config/load.ts': "import { REALTIME } from '../cache/realtime.ts'\nimport { defineCommand } from 'citty'\n",
      'src/cache/realtime.ts': 'export const REALTIME = 1\n',
      'src/monitor/client.ts':
        "import { log } from '../util/log.ts'\nimport { parse } from '../rpc/parse.ts'\nimport { x } from '../cache/realtime.ts'\n",
      'src/util/every.ts': 'export const every = 1\n',
      'src/util/log.ts': "import { REALTIME } from '../cache/realtime.ts'\nexport const log = REALTIME\n",
      'src/rpc/parse.ts': "import { every } from '../util/every.ts'\nexport const parse = every\n",
    })
    expect(check(root)).toEqual({
      code: 1,
      lines: [
        'wall: src/cache/integrity.ts imports src/providers/forward.ts (the cache never calls a provider)',
        'wall: src/config/load.ts imports src/cache/realtime.ts (config imports no cache)',
        'wall: src/config/load.ts imports package citty (citty only under src/cli)',
        'wall: src/metrics/prometheus.ts imports src/streams/hub.ts (metrics import no http, transport or streams)',
        'wall: src/monitor/client.ts imports src/cache/realtime.ts (the monitor imports only rpc and util)',
        'wall: src/providers/forward.ts imports package elysia (the core imports no transport)',
        'wall: src/rpc/parse.ts imports src/util/every.ts (rpc imports nothing of the project)',
        'wall: src/streams/methods.ts imports src/http/websocket.ts (the core imports no transport)',
        'wall: src/util/log.ts imports src/cache/realtime.ts (util imports nothing of the project)',
        'check-layers: 12 files, 11 imports: 0 file cycle(s), 0 part cycle(s), 9 wall breach(es), 0 unresolved',
      ],
    })
  })

  test('behavior: an import of a missing file fails', () => {
    const root = tree({ 'src/util/a.ts': "import { b } from './b.ts'\n" })
    expect(check(root)).toEqual({
      code: 1,
      lines: ['unresolved: src/util/a.ts imports ./b.ts, which is no file', expect.stringContaining('1 unresolved')],
    })
  })
})

describe('importSpecifiers', () => {
  test('default: every form of import and re-export, in order', () => {
    const text = [
      "import a from './a.ts'",
      "import type { B } from './b.ts'",
      "import { type C, d } from './c.ts'",
      "import * as e from './e.ts'",
      "import './f.ts'",
      "export * from './g.ts'",
      "export * as h from './h.ts'",
      "export type { I } from './i.ts'",
      'export {\n  j,\n  type K,\n} from "./j.ts"',
      "const l = await import('./l.ts')",
      "type M = typeof import('./m.ts')",
    ].join('\n')
    expect(importSpecifiers(text)).toEqual([
      './a.ts',
      './b.ts',
      './c.ts',
      './e.ts',
      './f.ts',
      './g.ts',
      './h.ts',
      './i.ts',
      './j.ts',
      './l.ts',
      './m.ts',
    ])
  })

  test('behavior: comments are not read; strings, templates and regular expressions do not open comments', () => {
    const text = [
      "// import x from './commented.ts'",
      "/* import('./block.ts') */",
      "const url = 'http://host/' // import './after-string.ts'",
      'const re = /\\/\\/[^/]*/g',
      "import { y } from './kept.ts'",
      'const t = `// ${1}`',
      "export function f() { return 1 } const from = 'x'",
      "import z from './last.ts'",
    ].join('\n')
    expect(importSpecifiers(text)).toEqual(['./kept.ts', './last.ts'])
  })
})
