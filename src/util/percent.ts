/** `"50.0%"`; `"0.0%"` when nothing was counted (never `NaN%`). */
export function percent(part: number, whole: number): string {
  return `${whole === 0 ? '0.0' : ((part / whole) * 100).toFixed(1)}%`
}
