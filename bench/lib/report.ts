import type { Spread } from './stats.ts'

/** One (server, workload) pair over all its wrk runs. */
export type MeasurementRow = {
  server: string
  workload: string
  rps: Spread
  p50Ms: Spread
  p99Ms: Spread
  errors: number
}

/** How a check's value is printed: a ratio (1.23x), milliseconds, MiB or a plain count. */
export type Unit = 'x' | 'ms' | 'µs' | 'MiB' | 'count'

/** A figure held to a SPEC §10 target (none: printed for information). */
export type Check = {
  label: string
  value: Spread
  unit: Unit
  target?: { op: '>=' | '<=' | '<' | '='; limit: number }
}

/** One part of the benchmark: its wrk measurements (if any), any tables of its own, and the checks taken from them. */
export type Section = { title: string; rows: MeasurementRow[]; tables?: Table[]; checks: Check[]; notes: string[] }

/** Everything the benchmark prints: context lines, the sections and any warnings. */
export type Report = { title: string; meta: [string, string][]; sections: Section[]; warnings: string[] }

/** A table of text cells under one header row. */
export type Table = { header: string[]; body: string[][] }

/** The report as aligned plain text for the terminal. */
export function renderText(report: Report): string {
  const meta = report.meta.map(([key, value]) => `${`${key}:`.padEnd(10)} ${value}`)
  const sections = report.sections.flatMap((section) => [
    '',
    `== ${section.title}`,
    ...tables(section)
      .map(alignTable)
      .flatMap((table) => ['', table]),
    ...section.notes.map((note) => `note: ${note}`),
  ])
  const summary = alignTable(summaryTable(report))
  const warnings = report.warnings.map((warning) => `WARNING: ${warning}`)
  return [
    report.title,
    '',
    ...meta,
    ...sections,
    '',
    '== Every SPEC §10 target',
    '',
    summary,
    ...(warnings.length ? ['', ...warnings] : []),
  ].join('\n')
}

/** The report as Markdown, for bench/RESULTS.md. */
export function renderMarkdown(report: Report): string {
  const meta = report.meta.map(([key, value]) => `- ${key}: ${value}`)
  const sections = report.sections.flatMap((section) => [
    '',
    `## ${section.title}`,
    ...tables(section)
      .map(markdownTable)
      .flatMap((table) => ['', table]),
    ...(section.notes.length ? ['', ...section.notes.map((note) => `- ${note}`)] : []),
  ])
  const warnings = report.warnings.map((warning) => `> **WARNING:** ${warning}`)
  const summary = markdownTable(summaryTable(report))
  return [
    `# ${report.title}`,
    '',
    ...meta,
    '',
    '## Every SPEC §10 target',
    '',
    summary,
    ...sections,
    ...(warnings.length ? ['', warnings.join('\n>\n')] : []),
    '',
  ].join('\n')
}

/** Whether a check meets its target, judged on the median; undefined when it has none. */
export function meets({ value, target }: Check): boolean | undefined {
  if (!target) return undefined
  const v = value.median
  return { '>=': v >= target.limit, '<=': v <= target.limit, '<': v < target.limit, '=': v === target.limit }[target.op]
}

function tables(section: Section): Table[] {
  const measured: Table = {
    header: ['server', 'workload', 'req/s median (min–max)', 'p50', 'p99 median (min–max)', 'errors'],
    body: section.rows.map((row) => [
      row.server,
      row.workload,
      formatSpread(row.rps, formatRate),
      `${formatMs(row.p50Ms.median)} ms`,
      `${formatSpread(row.p99Ms, formatMs)} ms`,
      String(row.errors),
    ]),
  }
  const checks: Table = {
    header: ['measure', 'median (min–max)', 'target', 'verdict'],
    body: section.checks.map(checkCells),
  }
  return [...(section.rows.length ? [measured] : []), ...(section.tables ?? []), checks]
}

function summaryTable(report: Report): Table {
  const body = report.sections.flatMap((section) =>
    section.checks.filter((check) => check.target).map((check) => [section.title.split(':')[0]!, ...checkCells(check)]),
  )
  return { header: ['section', 'measure', 'median (min–max)', 'target', 'verdict'], body }
}

function checkCells(check: Check): string[] {
  const format = FORMATS[check.unit]
  const met = meets(check)
  const target = check.target ? `${check.target.op} ${format(check.target.limit)}` : '(info)'
  return [check.label, formatSpread(check.value, format), target, met === undefined ? '-' : met ? 'pass' : 'MISS']
}

const FORMATS: Record<Unit, (n: number) => string> = {
  x: (value) => `${value.toFixed(2)}x`,
  ms: (value) => `${formatMs(value)} ms`,
  µs: (value) => `${value.toFixed(0)} µs`,
  MiB: (value) => `${Math.round(value)} MiB`,
  count: (value) => Math.round(value).toLocaleString('en-US'),
}

function alignTable({ header, body }: Table): string {
  const widths = header.map((cell, column) => Math.max(cell.length, ...body.map((row) => row[column]!.length)))
  const line = (cells: string[]) =>
    cells
      .map((cell, column) => cell.padEnd(widths[column]!))
      .join('  ')
      .trimEnd()
  return [line(header), line(widths.map((width) => '-'.repeat(width))), ...body.map(line)].join('\n')
}

function markdownTable({ header, body }: Table): string {
  const line = (cells: string[]) => `| ${cells.join(' | ')} |`
  return [line(header), line(header.map(() => '---')), ...body.map(line)].join('\n')
}

function formatSpread(value: Spread, format: (n: number) => string): string {
  if (value.min === value.max) return format(value.median)
  return `${format(value.median)} (${format(value.min)}–${format(value.max)})`
}

function formatRate(value: number): string {
  return Math.round(value).toLocaleString('en-US')
}

function formatMs(value: number): string {
  return value.toFixed(value < 1 ? 3 : 2)
}
