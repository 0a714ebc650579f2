/**
 * Build the single executable: `bun run build` writes `dist/edb-rpc-proxy`. Compiled to bytecode
 * with the monitor's Ink/React code split into its own chunk: spawn to first `edb_ping` answer drops
 * from ~150 ms to ~85 ms (SPEC §10 sets 150 ms).
 * `--outfile=PATH` writes elsewhere; `--target=bun-linux-x64-baseline` (or another Bun target) cross-compiles.
 */

import { dirname } from 'node:path'
import { $ } from 'bun'

const option = (name: string) => process.argv.find((arg) => arg.startsWith(`--${name}=`))?.slice(name.length + 3)
const target = option('target')
const outfile = option('outfile') ?? 'dist/edb-rpc-proxy'

await $`mkdir -p ${dirname(outfile)}`
await $`bun build src/main.ts --compile --minify --bytecode --splitting --format=esm ${target ? [`--target=${target}`] : []} --outfile ${outfile}`.quiet()
console.log(`built ${outfile}`)
