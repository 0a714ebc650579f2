/**
 * JSON text with object keys sorted at every level, so `{"a":1,"b":2}` and `{"b":2,"a":1}`
 * produce the same text. Arrays keep their order; strings are escaped exactly as JSON.stringify does.
 */
export function canonicalJson(value: unknown): string {
  // A number kept as written (JSON.rawJSON, see rpc/parse.ts) is its own text, never an object.
  if (value === null || typeof value !== 'object' || isRawJson(value)) return JSON.stringify(value) ?? 'null'
  if (Array.isArray(value)) return `[${value.map(canonicalJson).join(',')}]`
  const record = value as Record<string, unknown>
  const keys = Object.keys(record).sort()
  const parts: string[] = []
  for (const key of keys) {
    if (record[key] === undefined) continue
    parts.push(`${JSON.stringify(key)}:${canonicalJson(record[key])}`)
  }
  return `{${parts.join(',')}}`
}

const isRawJson = (JSON as unknown as { isRawJSON: (value: unknown) => boolean }).isRawJSON
