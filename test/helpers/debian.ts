/**
 * Make sure a command from a Debian package is on this machine (tests run as root on Debian; CI
 * machines start fresh): `apt-get install -y <pkg>` when `command` is missing.
 */
export function ensureDebianCommand(command: string, pkg = command): string {
  const found = Bun.which(command)
  if (found !== null) return found
  for (const args of [
    ['apt-get', 'update'],
    ['apt-get', 'install', '-y', pkg],
  ]) {
    const run = Bun.spawnSync(args, {
      stdout: 'ignore',
      stderr: 'pipe',
      env: { ...process.env, DEBIAN_FRONTEND: 'noninteractive' },
    })
    if (run.exitCode !== 0) throw new Error(`${args.join(' ')} failed: ${run.stderr.toString().slice(-400)}`)
  }
  const installed = Bun.which(command)
  if (installed === null) throw new Error(`${pkg} installed, but ${command} is still not on PATH`)
  return installed
}
