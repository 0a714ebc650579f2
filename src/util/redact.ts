import { createHash } from 'node:crypto'

/**
 * A provider URL safe to show anywhere (SPEC §8): the scheme, host and port stay readable; user-info,
 * path, query and fragment become one short stable fingerprint, so two keys on one host stay
 * distinguishable and no key, however short or oddly shaped, is ever printed. Anything that is not a
 * URL is shown only as a fingerprint.
 */
export function redactUrl(raw: string): string {
  let url: URL
  try {
    url = new URL(raw)
  } catch {
    return `<not a URL ${fingerprint(raw)}>`
  }
  if (url.host === '') return `<${url.protocol} URL ${fingerprint(raw)}>`
  const rest = `${url.pathname === '/' ? '' : url.pathname}${url.search}${url.hash}`
  const hasSecretParts = url.username !== '' || url.password !== '' || rest !== ''
  return `${url.protocol}//${url.host}${hasSecretParts ? `/<${fingerprint(`${url.username}:${url.password}@${rest}`)}>` : ''}`
}

/** Replace every configured URL inside free text (an error message, a log line) by its redacted form. */
export function redactText(text: string, urls: readonly string[]): string {
  let out = text
  for (const url of urls) {
    if (url === '') continue
    const shown = redactUrl(url)
    out = out.split(url).join(shown)
    // Servers often quote themselves without a trailing slash, or by the part after the host alone.
    const trimmed = url.replace(/\/+$/, '')
    if (trimmed !== url && trimmed !== '') out = out.split(trimmed).join(shown)
  }
  return out
}

/** Eight hex digits of SHA-256: stable across runs, short, and no way back to the secret. */
function fingerprint(text: string): string {
  return `#${createHash('sha256').update(text).digest('hex').slice(0, 8)}`
}
