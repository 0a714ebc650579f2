/**
 * A provider URL safe to show anywhere (SPEC §8): user-info, query values and path segments that
 * look like API keys become `***`; the scheme, host, port and ordinary path words stay readable.
 */
export function redactUrl(raw: string): string {
  let url: URL
  try {
    url = new URL(raw)
  } catch {
    return '***'
  }
  const auth = url.username !== '' || url.password !== '' ? '***@' : ''
  const path = url.pathname
    .split('/')
    .map((segment) => (looksSecret(decodeSafe(segment)) ? '***' : segment))
    .join('/')
  const query = [...url.searchParams.keys()].map((key) => `${encodeURIComponent(key)}=***`).join('&')
  return `${url.protocol}//${auth}${url.host}${path === '/' ? '' : path}${query ? `?${query}` : ''}`
}

/** Replace every configured URL inside free text (an error message, a log line) by its redacted form. */
export function redactText(text: string, urls: readonly string[]): string {
  let out = text
  for (const url of urls) if (url !== '') out = out.split(url).join(redactUrl(url))
  return out
}

/** Long tokens, or mid-length ones mixing letters and digits, are treated as keys. */
function looksSecret(segment: string): boolean {
  if (segment.length >= 20) return true
  return segment.length >= 10 && /\d/.test(segment) && /[a-z]/i.test(segment)
}

function decodeSafe(segment: string): string {
  try {
    return decodeURIComponent(segment)
  } catch {
    return segment
  }
}
