import { mkdir } from 'node:fs/promises'
import { join } from 'node:path'
import { freePort } from '../../test/helpers/ports.ts'
import type { Child, Children } from './children.ts'

/** Baseline B of SPEC §10: nginx in front of anvil, one port caching on the request body, one only forwarding. */
export type Nginx = { cacheUrl: string; forwardUrl: string; child: Child }

/** Where Debian's nginx lives; undefined when it is not installed. */
export function nginxBinary(): string | undefined {
  return Bun.which('nginx') ?? Bun.which('nginx', { PATH: '/usr/sbin:/usr/local/sbin:/sbin' }) ?? undefined
}

/**
 * Start nginx (one worker, in the foreground) with a config of its own under `dir`: `cacheUrl`
 * answers repeated bodies from `proxy_cache` keyed on `$request_body`, `forwardUrl` forwards every
 * request. Both keep connections to anvil alive, as a tuned deployment would.
 */
export async function startNginx(
  children: Children,
  binary: string,
  dir: string,
  upstreamUrl: string,
  core: number,
): Promise<Nginx> {
  await mkdir(join(dir, 'cache'), { recursive: true })
  const [cachePort, forwardPort] = [freePort(), freePort()]
  const config = join(dir, 'nginx.conf')
  await Bun.write(config, renderConfig(dir, new URL(upstreamUrl).host, cachePort, forwardPort))
  const child = children.start('nginx', [binary, '-p', dir, '-c', config, '-e', join(dir, 'error.log')], { core })
  const cacheUrl = `http://127.0.0.1:${cachePort}`
  const forwardUrl = `http://127.0.0.1:${forwardPort}`
  await waitUntilServing(child, [cacheUrl, forwardUrl], dir)
  return { cacheUrl, forwardUrl, child }
}

function renderConfig(dir: string, upstreamHost: string, cachePort: number, forwardPort: number): string {
  const user = process.getuid?.() === 0 ? 'user root;' : ''
  const common = `
      proxy_pass http://anvil;
      proxy_http_version 1.1;
      proxy_set_header Connection "";`
  return `${user}
daemon off;
worker_processes 1;
pid ${join(dir, 'nginx.pid')};
error_log ${join(dir, 'error.log')} warn;
events { worker_connections 1024; }
http {
  access_log off;
  client_body_temp_path ${join(dir, 'client_body')};
  proxy_temp_path ${join(dir, 'proxy_temp')};
  fastcgi_temp_path ${join(dir, 'fastcgi_temp')};
  uwsgi_temp_path ${join(dir, 'uwsgi_temp')};
  scgi_temp_path ${join(dir, 'scgi_temp')};
  client_body_buffer_size 64k;
  client_body_in_single_buffer on;
  keepalive_requests 1000000;
  proxy_cache_path ${join(dir, 'cache')} levels=1:2 keys_zone=rpc:16m max_size=256m inactive=1h;
  upstream anvil { server ${upstreamHost}; keepalive 64; }
  server {
    listen 127.0.0.1:${cachePort};
    location / {${common}
      proxy_cache rpc;
      proxy_cache_methods POST;
      proxy_cache_key $request_body;
      proxy_cache_valid 200 1h;
      proxy_cache_lock on;
      add_header x-cache $upstream_cache_status;
    }
  }
  server {
    listen 127.0.0.1:${forwardPort};
    location / {${common}
    }
  }
}
`
}

async function waitUntilServing(child: Child, urls: string[], dir: string): Promise<void> {
  const deadline = Date.now() + 10_000
  for (const url of urls) {
    for (;;) {
      const ok = await fetch(url, {
        method: 'POST',
        body: '{"jsonrpc":"2.0","id":1,"method":"eth_chainId","params":[]}',
      })
        .then((response) => response.ok)
        .catch(() => false)
      if (ok) break
      if (Date.now() > deadline) {
        const log = await Bun.file(join(dir, 'error.log'))
          .text()
          .catch(() => '')
        throw new Error(`nginx did not answer at ${url} within 10 s:\n${child.stderr.text()}${log}`)
      }
      await Bun.sleep(50)
    }
  }
}
