/** A median with the range it came from. */
export type Spread = { median: number; min: number; max: number }

/** Median, min and max of a non-empty list. */
export function spread(values: number[]): Spread {
  if (values.length === 0) throw new Error('spread of an empty list')
  const sorted = [...values].sort((a, b) => a - b)
  const middle = Math.floor(sorted.length / 2)
  const median = sorted.length % 2 === 1 ? sorted[middle]! : (sorted[middle - 1]! + sorted[middle]!) / 2
  return { median, min: sorted[0]!, max: sorted.at(-1)! }
}

/** Pairwise ratios `a[i] / b[i]` (runs of the same round), summarized. */
export function ratioSpread(a: number[], b: number[]): Spread {
  return spread(a.map((value, i) => value / b[i]!))
}
