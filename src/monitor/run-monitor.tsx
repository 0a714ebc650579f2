import { render } from 'ink'
import { callProxy, fetchSnapshot } from './client.ts'
import { Dashboard } from './dashboard.tsx'
import { sanitizeText } from './sanitize.ts'

export type MonitorOptions = { url: string; refreshMs: number; timeoutMs: number; err: (text: string) => void }

/** Run the dashboard until the user quits; an unreachable proxy is one clear line and exit code 1. */
export async function runMonitor({ url, refreshMs, timeoutMs, err }: MonitorOptions): Promise<number> {
  try {
    await callProxy(url, 'edb_ping', timeoutMs)
  } catch (error) {
    err(`error: cannot reach the proxy at ${sanitizeText(url)}: ${sanitizeText((error as Error).message)}`)
    return 1
  }
  const initial = await fetchSnapshot(url, timeoutMs)
  const app = render(<Dashboard url={url} refreshMs={refreshMs} timeoutMs={timeoutMs} initial={initial} />, {
    exitOnCtrlC: false,
  })
  await app.waitUntilExit()
  return 0
}
