/**
 * Build the single executable: `bun run build` writes `dist/edb-rpc-proxy`.
 * Pass `--target=bun-linux-x64-baseline` (or another Bun target) to cross-compile.
 */
import { $ } from 'bun'

const target = process.argv.find((arg) => arg.startsWith('--target='))?.slice('--target='.length)
const outfile = 'dist/edb-rpc-proxy'

await $`mkdir -p dist`
await $`bun build src/main.ts --compile --minify ${target ? [`--target=${target}`] : []} --outfile ${outfile}`
console.log(`built ${outfile}`)
