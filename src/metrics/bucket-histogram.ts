type Series = { counts: number[]; sum: number; count: number }

/**
 * A histogram cheap enough for the hit path: one label, plain counters per bucket, cumulated only
 * when scraped. It registers with a prom-client `Registry` as a custom metric (prom-client's own
 * `Histogram.observe` hashes its labels on every call).
 */
export function createBucketHistogram(name: string, help: string, labelName: string, buckets: readonly number[]) {
  const series = new Map<string, Series>()
  return {
    observe(labelValue: string, value: number): void {
      let entry = series.get(labelValue)
      if (entry === undefined) {
        entry = { counts: new Array<number>(buckets.length).fill(0), sum: 0, count: 0 }
        series.set(labelValue, entry)
      }
      entry.sum += value
      entry.count += 1
      for (let index = 0; index < buckets.length; index++) {
        if (value <= (buckets[index] as number)) {
          entry.counts[index] = (entry.counts[index] as number) + 1
          break
        }
      }
    },
    /** The prom-client metric interface (`name`, `help`, `type`, `get`). */
    metric: {
      name,
      help,
      type: 'histogram' as const,
      aggregator: 'sum' as const,
      collect: () => {},
      reset: () => series.clear(),
      async get() {
        const values: { metricName: string; labels: Record<string, string | number>; value: number }[] = []
        for (const [labelValue, entry] of series) {
          let cumulative = 0
          buckets.forEach((bound, index) => {
            cumulative += entry.counts[index] as number
            values.push({
              metricName: `${name}_bucket`,
              labels: { le: bound, [labelName]: labelValue },
              value: cumulative,
            })
          })
          values.push({
            metricName: `${name}_bucket`,
            labels: { le: '+Inf', [labelName]: labelValue },
            value: entry.count,
          })
          values.push({ metricName: `${name}_sum`, labels: { [labelName]: labelValue }, value: entry.sum })
          values.push({ metricName: `${name}_count`, labels: { [labelName]: labelValue }, value: entry.count })
        }
        return { name, help, type: 'histogram' as const, aggregator: 'sum' as const, values }
      },
    },
  }
}
