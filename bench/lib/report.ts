import type { Spread } from './stats.ts'

/** One (server, workload) pair over all its runs. */
export type MeasurementRow = { server: string; workload: string; rps: Spread; p50Ms: Spread; p99Ms: Spread; errors: number }

/** A ratio of the proxy to a baseline, with the SPEC target it is held to (none: for information). */
export type RatioRow = { workload: string; label: string; value: Spread; target?: { op: '>=' | '<='; limit: number } }

/** Everything the benchmark prints: context lines, the two tables and any warnings. */
export type Report = { title: string; meta: [string, string][]; rows: MeasurementRow[]; ratios: RatioRow[]; warnings: string[] }

type Table = { header: string[]; body: string[][] }

/** The report as aligned plain text for the terminal. */
export function renderText(report: Report): string {
  const meta = report.meta.map(([key, value]) => `${`${key}:`.padEnd(10)} ${value}`)
  const warnings = report.warnings.map((warning) => `WARNING: ${warning}`)
  const [measured, ratios] = tables(report).map(alignTable)
  return [report.title, '', ...meta, '', measured, '', ratios, ...(warnings.length ? ['', ...warnings] : [])].join('\n')
}

/** The report as Markdown, for bench/RESULTS-*.md. */
export function renderMarkdown(report: Report): string {
  const meta = report.meta.map(([key, value]) => `- ${key}: ${value}`)
  const warnings = report.warnings.map((warning) => `> **WARNING:** ${warning}`)
  const [measured, ratios] = tables(report).map(markdownTable)
  return [`# ${report.title}`, '', ...meta, '', measured, '', ratios, ...(warnings.length ? ['', warnings.join('\n>\n')] : []), ''].join('\n')
}

function tables({ rows, ratios }: Report): Table[] {
  const measured: Table = {
    header: ['server', 'workload', 'req/s median (min–max)', 'p50', 'p99 median (min–max)', 'errors'],
    body: rows.map((row) => [
      row.server,
      row.workload,
      formatSpread(row.rps, formatRate),
      `${formatMs(row.p50Ms.median)} ms`,
      `${formatSpread(row.p99Ms, formatMs)} ms`,
      String(row.errors),
    ]),
  }
  const verdicts: Table = {
    header: ['workload', 'ratio', 'median (min–max)', 'target', 'verdict'],
    body: ratios.map((ratio) => [
      ratio.workload,
      ratio.label,
      formatSpread(ratio.value, formatRatio),
      ratio.target ? `${ratio.target.op} ${formatRatio(ratio.target.limit)}` : '(info)',
      verdict(ratio),
    ]),
  }
  return [measured, verdicts]
}

function verdict({ value, target }: RatioRow): string {
  if (!target) return '-'
  const met = target.op === '>=' ? value.median >= target.limit : value.median <= target.limit
  return met ? 'pass' : 'miss'
}

function alignTable({ header, body }: Table): string {
  const widths = header.map((cell, column) => Math.max(cell.length, ...body.map((row) => row[column]!.length)))
  const line = (cells: string[]) => cells.map((cell, column) => cell.padEnd(widths[column]!)).join('  ').trimEnd()
  return [line(header), line(widths.map((width) => '-'.repeat(width))), ...body.map(line)].join('\n')
}

function markdownTable({ header, body }: Table): string {
  const line = (cells: string[]) => `| ${cells.join(' | ')} |`
  return [line(header), line(header.map(() => '---')), ...body.map(line)].join('\n')
}

function formatSpread(value: Spread, format: (n: number) => string): string {
  return `${format(value.median)} (${format(value.min)}–${format(value.max)})`
}

function formatRate(value: number): string {
  return Math.round(value).toLocaleString('en-US')
}

function formatMs(value: number): string {
  return value.toFixed(value < 1 ? 3 : 2)
}

function formatRatio(value: number): string {
  return `${value.toFixed(2)}x`
}
