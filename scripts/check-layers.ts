#!/usr/bin/env bun
/**
 * The layering check (STYLE.md, "Dependency direction"): reads every `src/**\/*.ts(x)` file's imports,
 * type-only ones included, and fails on any import cycle between files, any cycle between the
 * top-level parts of `src/`, and any breach of the walls below. One line per violation, then a summary.
 *
 * Usage: `bun scripts/check-layers.ts [root]` (the root holds `src/`; default: the current directory).
 * A hand-written scanner rather than dependency-cruiser: the rules fit in a table, and the scanner
 * needs no compiler API (TypeScript 7 ships none to JavaScript) and no new dependency.
 */
import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs'
import { dirname, join, relative, resolve } from 'node:path'
import process from 'node:process'

/** One import: the file that imports, what it names, and the project file or package it resolves to. */
export type ImportEdge = { from: string; specifier: string; to: string; isPackage: boolean }

/** A rule that says what some files may not import. */
type Wall = { files: (file: string) => boolean; forbids: (edge: ImportEdge) => boolean; reason: string }

const CORE = ['pipeline', 'cache', 'providers', 'chain', 'streams', 'management', 'limits', 'registry']
const TRANSPORT = ['http', 'transport']

/** The top-level part of `src/` a file belongs to: its folder, or its own name for a top-level file (`pipeline.ts` joins `pipeline/`). */
export function partOf(file: string): string {
  const [head = '', ...rest] = file.replace(/^src\//, '').split('/')
  return rest.length === 0 ? head.replace(/\.tsx?$/, '') : head
}

const inParts = (parts: readonly string[]) => (file: string) => parts.includes(partOf(file))
const importsParts = (parts: readonly string[]) => (edge: ImportEdge) =>
  !edge.isPackage && parts.includes(partOf(edge.to))
const importsPackage = (name: string) => (edge: ImportEdge) =>
  edge.isPackage && (edge.to === name || edge.to.startsWith(`${name}/`))
const outside =
  (...prefixes: string[]) =>
  (file: string) =>
    !prefixes.some((prefix) => file.startsWith(prefix))
const importsOutside = (parts: readonly string[]) => (edge: ImportEdge) =>
  !edge.isPackage && !parts.includes(partOf(edge.to))

/** The walls of STYLE's dependency direction. */
const WALLS: Wall[] = [
  { files: inParts(CORE), forbids: importsParts(TRANSPORT), reason: 'the core imports no transport' },
  { files: inParts(CORE), forbids: importsPackage('elysia'), reason: 'the core imports no transport' },
  {
    files: inParts(['metrics']),
    forbids: importsParts([...TRANSPORT, 'streams']),
    reason: 'metrics import no http, transport or streams',
  },
  { files: inParts(['cache']), forbids: importsParts(['providers']), reason: 'the cache never calls a provider' },
  { files: inParts(['config']), forbids: importsParts(['cache']), reason: 'config imports no cache' },
  { files: inParts(['rpc']), forbids: importsOutside(['rpc']), reason: 'rpc imports nothing of the project' },
  { files: inParts(['util']), forbids: importsOutside(['util']), reason: 'util imports nothing of the project' },
  {
    files: inParts(['monitor']),
    forbids: importsOutside(['monitor', 'rpc', 'util']),
    reason: 'the monitor imports only rpc and util',
  },
  {
    files: outside('src/http/', 'src/transport/http/'),
    forbids: importsPackage('elysia'),
    reason: 'elysia only under src/http or src/transport/http',
  },
  { files: outside('src/cli/'), forbids: importsPackage('citty'), reason: 'citty only under src/cli' },
]

/** Source text without comments (strings, template literals and regular expressions kept), so a commented-out import is not read. */
export function stripComments(text: string): string {
  let out = ''
  let index = 0
  let last = ''
  while (index < text.length) {
    const char = text[index] as string
    const next = text[index + 1]
    if (char === '/' && next === '/') {
      while (index < text.length && text[index] !== '\n') index++
    } else if (char === '/' && next === '*') {
      const end = text.indexOf('*/', index + 2)
      index = end === -1 ? text.length : end + 2
      out += ' '
    } else if (
      char === '"' ||
      char === "'" ||
      char === '`' ||
      (char === '/' && /^$|[(,=:[!&|?{};+\-*%<>~^]$/.test(last))
    ) {
      const end = literalEnd(text, index)
      out += text.slice(index, end)
      index = end
      last = char
    } else {
      out += char
      if (!/\s/.test(char)) last = char
      index++
    }
  }
  return out
}

/** Where the string, template or regular-expression literal opening at `start` ends (just past its closing quote). */
function literalEnd(text: string, start: number): number {
  const quote = text[start]
  let inClass = false
  for (let index = start + 1; index < text.length; index++) {
    const char = text[index]
    if (char === '\\') index++
    else if (quote === '/' && char === '[') inClass = true
    else if (quote === '/' && char === ']') inClass = false
    else if (char === quote && !inClass) return index + 1
    else if (char === '\n' && quote !== '`') return index
  }
  return text.length
}

const IMPORT_PATTERNS = [
  // import x from, import type { A } from, import { type A, b } from, import * as n from
  /\bimport\s+(?:type\s+)?[\w$*{}\s,]+?\s*from\s*(['"])([^'"]+)\1/g,
  // export * from, export * as n from, export { a } from, export type { A } from
  /\bexport\s+(?:type\s+)?(?:\*(?:\s+as\s+[\w$]+)?|\{[\w$\s,]*\})\s*from\s*(['"])([^'"]+)\1/g,
  // import 'side-effect'
  /\bimport\s*(['"])([^'"]+)\1/g,
  // import('dynamic'), typeof import('a type')
  /\bimport\s*\(\s*(['"`])([^'"`]+)\1\s*\)/g,
]

/** Every module specifier a source text imports, in order of appearance, type-only and dynamic ones included. */
export function importSpecifiers(text: string): string[] {
  const code = stripComments(text)
  const found: { at: number; specifier: string }[] = []
  for (const pattern of IMPORT_PATTERNS) {
    for (const match of code.matchAll(pattern)) found.push({ at: match.index, specifier: match[2] as string })
  }
  return found.sort((a, b) => a.at - b.at).map((entry) => entry.specifier)
}

/** Every `.ts`/`.tsx` file under `dir`, as paths relative to `root`, sorted. */
function sourceFiles(root: string, dir: string): string[] {
  const files: string[] = []
  for (const name of readdirSync(dir).sort()) {
    const path = join(dir, name)
    if (statSync(path).isDirectory()) files.push(...sourceFiles(root, path))
    else if (/\.tsx?$/.test(name) && !name.endsWith('.d.ts')) files.push(relative(root, path).split('\\').join('/'))
  }
  return files
}

/** The project file a relative specifier names, or undefined when none exists. */
function resolveRelative(root: string, from: string, specifier: string): string | undefined {
  const base = resolve(root, dirname(from), specifier)
  const candidates = [base, `${base}.ts`, `${base}.tsx`, join(base, 'index.ts'), join(base, 'index.tsx')]
  const hit = candidates.find((path) => existsSync(path) && statSync(path).isFile())
  return hit === undefined ? undefined : relative(root, hit).split('\\').join('/')
}

/** The package a bare specifier names (`@scope/name` or `name`). */
function packageName(specifier: string): string {
  const parts = specifier.split('/')
  return specifier.startsWith('@') ? parts.slice(0, 2).join('/') : (parts[0] as string)
}

/** Every import of every source file under `root/src`. */
export function readImports(root: string): { files: string[]; edges: ImportEdge[]; unresolved: ImportEdge[] } {
  const files = sourceFiles(root, join(root, 'src'))
  const edges: ImportEdge[] = []
  const unresolved: ImportEdge[] = []
  for (const from of files) {
    for (const specifier of importSpecifiers(readFileSync(join(root, from), 'utf8'))) {
      if (!specifier.startsWith('.')) {
        edges.push({ from, specifier, to: packageName(specifier), isPackage: true })
        continue
      }
      const to = resolveRelative(root, from, specifier)
      if (to === undefined) unresolved.push({ from, specifier, to: specifier, isPackage: false })
      else edges.push({ from, specifier, to, isPackage: false })
    }
  }
  return { files, edges, unresolved }
}

/** Strongly connected components of a graph (Tarjan), each listed in discovery order; singletons only when they import themselves. */
export function cycleGroups(nodes: readonly string[], next: (node: string) => readonly string[]): string[][] {
  const index = new Map<string, number>()
  const low = new Map<string, number>()
  const stack: string[] = []
  const onStack = new Set<string>()
  const groups: string[][] = []
  const visit = (node: string): void => {
    index.set(node, index.size)
    low.set(node, index.get(node) as number)
    stack.push(node)
    onStack.add(node)
    for (const target of next(node)) {
      if (!index.has(target)) {
        visit(target)
        low.set(node, Math.min(low.get(node) as number, low.get(target) as number))
      } else if (onStack.has(target)) {
        low.set(node, Math.min(low.get(node) as number, index.get(target) as number))
      }
    }
    if (low.get(node) !== index.get(node)) return
    const group: string[] = []
    let member: string
    do {
      member = stack.pop() as string
      onStack.delete(member)
      group.unshift(member)
    } while (member !== node)
    if (group.length > 1 || next(node).includes(node)) groups.push(group)
  }
  for (const node of nodes) if (!index.has(node)) visit(node)
  return groups
}

/** A shortest cycle through `start` within `group`, as the list of nodes from `start` back to it. */
export function shortestCycle(
  start: string,
  group: readonly string[],
  next: (node: string) => readonly string[],
): string[] {
  const members = new Set(group)
  const cameFrom = new Map<string, string>()
  const queue = [start]
  for (let head = 0; head < queue.length; head++) {
    const node = queue[head] as string
    for (const target of next(node)) {
      if (!members.has(target)) continue
      if (target === start) {
        const path = [node]
        while (path[0] !== start) path.unshift(cameFrom.get(path[0] as string) as string)
        return [...path, start]
      }
      if (cameFrom.has(target)) continue
      cameFrom.set(target, node)
      queue.push(target)
    }
  }
  return [start, start]
}

/** A graph's successor function from a list of edges. */
function successors(pairs: Iterable<[string, string]>): (node: string) => string[] {
  const map = new Map<string, string[]>()
  for (const [from, to] of pairs) {
    const list = map.get(from) ?? []
    if (!list.includes(to)) list.push(to)
    map.set(from, list)
  }
  return (node) => map.get(node) ?? []
}

/** Every violation, one line each: file cycles, part cycles, wall breaches, imports of missing files. */
export function checkLayers(root: string): { lines: string[]; summary: string } {
  const { files, edges, unresolved } = readImports(root)
  const local = edges.filter((edge) => !edge.isPackage)
  const lines: string[] = []

  const fileNext = successors(local.map((edge) => [edge.from, edge.to]))
  const fileGroups = cycleGroups(files, fileNext)
  for (const group of fileGroups) {
    const cycle = shortestCycle(group[0] as string, group, fileNext)
    const more = group.length > cycle.length - 1 ? ` (${group.length} files in this tangle)` : ''
    lines.push(`cycle: ${cycle.join(' -> ')}${more}`)
  }

  const crossing = local.filter((edge) => partOf(edge.from) !== partOf(edge.to))
  const partNext = successors(crossing.map((edge) => [partOf(edge.from), partOf(edge.to)]))
  const parts = [...new Set(files.map(partOf))]
  const partGroups = cycleGroups(parts, partNext)
  for (const group of partGroups) {
    const cycle = shortestCycle(group[0] as string, group, partNext)
    const witnesses = cycle.slice(1).map((to, step) => {
      const edge = crossing.find(
        (candidate) => partOf(candidate.from) === cycle[step] && partOf(candidate.to) === to,
      ) as ImportEdge
      return `${edge.from} -> ${edge.to}`
    })
    const more = group.length > cycle.length - 1 ? `; ${group.length} parts tangled: ${group.join(', ')}` : ''
    lines.push(`part cycle: ${cycle.join(' -> ')} (${witnesses.join(', ')}${more})`)
  }

  let breaches = 0
  for (const edge of edges) {
    for (const wall of WALLS) {
      if (!wall.files(edge.from) || !wall.forbids(edge)) continue
      breaches++
      lines.push(`wall: ${edge.from} imports ${edge.isPackage ? `package ${edge.to}` : edge.to} (${wall.reason})`)
      break
    }
  }
  for (const edge of unresolved) lines.push(`unresolved: ${edge.from} imports ${edge.specifier}, which is no file`)

  const counts = `${fileGroups.length} file cycle(s), ${partGroups.length} part cycle(s), ${breaches} wall breach(es), ${unresolved.length} unresolved`
  const summary = `check-layers: ${files.length} files, ${edges.length} imports: ${lines.length === 0 ? 'ok' : counts}`
  return { lines, summary }
}

if (import.meta.main) {
  const { lines, summary } = checkLayers(resolve(process.argv[2] ?? '.'))
  for (const line of lines) console.log(line)
  console.log(summary)
  process.exitCode = lines.length === 0 ? 0 : 1
}
