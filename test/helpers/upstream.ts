/** A scripted upstream's view of one request it received. */
export type Hit = { body: any; headers: Headers }

export type ScriptedHandler = (call: any, hit: Hit) => Response | Promise<Response> | unknown

/** A small real HTTP upstream on port 0 for faults a real node will not produce; logs every hit. */
export type ScriptedUpstream = { url: string; hits: Hit[]; stop(): Promise<void> }

/**
 * Start a scripted upstream. The handler returns a `Response` to send as is, or any other value
 * to be answered as that JSON-RPC `result` with the request's id.
 */
export function startScriptedUpstream(handler: ScriptedHandler, path = '/'): ScriptedUpstream {
  const hits: Hit[] = []
  const server = Bun.serve({
    hostname: '127.0.0.1',
    port: 0,
    idleTimeout: 0,
    async fetch(request) {
      const text = await request.text()
      let body: any
      try {
        body = JSON.parse(text)
      } catch {
        body = text
      }
      const hit = { body, headers: request.headers }
      hits.push(hit)
      const answer = await handler(body, hit)
      if (answer instanceof Response) return answer
      return Response.json({ jsonrpc: '2.0', id: body?.id ?? null, result: answer })
    },
  })
  return {
    url: `http://127.0.0.1:${server.port}${path}`,
    hits,
    stop: () => server.stop(true),
  }
}

/** A JSON-RPC error body as a node sends it, for the given request. */
export function rpcErrorResponse(call: any, code: number, message: string, data?: unknown): Response {
  return Response.json({
    jsonrpc: '2.0',
    id: call?.id ?? null,
    error: { code, message, ...(data === undefined ? {} : { data }) },
  })
}
