import { bunPlatform } from './bun.ts'
import { denoPlatform } from './deno.ts'
import type { Platform } from './types.ts'

export {
  type ClientInfo,
  ListenError,
  type Platform,
  type PlatformSocket,
  type RedisConnection,
  type RunningServer,
  type ServeOptions,
  type ShutdownSignal,
  type SocketAcceptor,
  type SocketHandlers,
} from './types.ts'

/** The runtime this process runs on. */
export const platform: Platform = 'Deno' in globalThis ? denoPlatform : bunPlatform
export type { SqliteDatabase, SqliteStatement, SqliteValue } from './sqlite.ts'
