const BARS = '▁▂▃▄▅▆▇█'

/** A one-line chart of `values` (the last `width` of them), scaled between their min and max. */
export function sparkline(values: readonly number[], width: number): string {
  const shown = values.slice(-width)
  if (shown.length === 0) return ''
  const min = Math.min(...shown)
  const max = Math.max(...shown)
  return shown
    .map((value) => BARS[max === min ? 0 : Math.round(((value - min) / (max - min)) * (BARS.length - 1))])
    .join('')
}
