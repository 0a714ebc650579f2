import { bunPlatform } from './bun.ts'
import { denoPlatform } from './deno.ts'
import type { Platform } from './types.ts'

export type { Platform, RunningServer, ServeOptions, ShutdownSignal } from './types.ts'

/** The runtime this process runs on. */
export const platform: Platform = 'Deno' in globalThis ? denoPlatform : bunPlatform
