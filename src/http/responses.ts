/** SPEC §3: browser dapps may make data calls (management methods are guarded separately). */
export const CORS_HEADERS = {
  'access-control-allow-origin': '*',
  'access-control-allow-methods': 'POST, GET, OPTIONS',
  'access-control-allow-headers': 'content-type, authorization',
  'access-control-max-age': '600',
}

const JSON_HEADERS = { 'content-type': 'application/json', 'access-control-allow-origin': '*' }

/** A JSON response from text that is already serialized. */
export function jsonResponse(status: number, text: string): Response {
  return new Response(text, { status, headers: JSON_HEADERS })
}

/** A JSON-RPC error response with `id: null`, for failures before any call could be read. */
export function jsonErrorResponse(status: number, code: number, message: string): Response {
  return jsonResponse(status, JSON.stringify({ jsonrpc: '2.0', id: null, error: { code, message } }))
}
