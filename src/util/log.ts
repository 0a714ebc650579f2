import { createConsola } from 'consola'

/** The program's logger: startup, warnings and errors at the default level; per-call detail at debug. */
export const log = createConsola({ level: 3 }).withTag('edb-rpc-proxy')
