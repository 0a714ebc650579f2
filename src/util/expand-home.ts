import { join } from 'node:path'

/** Expand a leading `~` to the home directory. */
export function expandHome(path: string, home: string): string {
  if (path === '~') return home
  return path.startsWith('~/') ? join(home, path.slice(2)) : path
}
