import { createPrivateKey, X509Certificate } from 'node:crypto'
import { readFileSync } from 'node:fs'
import { ConfigError } from './errors.ts'

/** A certificate and its private key, PEM text, checked to belong together. */
export type TlsFiles = { cert: string; key: string }

/**
 * SPEC §13: `--tls-cert FILE --tls-key FILE`. Both or neither; each must be readable PEM, and the
 * key must be the certificate's. Every failure is one line naming the file (a `ConfigError`).
 */
export function readTlsFiles(certPath: string | undefined, keyPath: string | undefined): TlsFiles | undefined {
  if (certPath === undefined && keyPath === undefined) return undefined
  if (certPath === undefined) throw new ConfigError('--tls-key needs --tls-cert: give both, or neither for plain HTTP')
  if (keyPath === undefined) throw new ConfigError('--tls-cert needs --tls-key: give both, or neither for plain HTTP')
  const cert = readPem(certPath, '--tls-cert')
  const key = readPem(keyPath, '--tls-key')
  let certificate: X509Certificate
  try {
    certificate = new X509Certificate(cert)
  } catch {
    throw new ConfigError(`--tls-cert ${certPath}: not a PEM certificate`)
  }
  let privateKey: ReturnType<typeof createPrivateKey>
  try {
    privateKey = createPrivateKey(key)
  } catch {
    throw new ConfigError(`--tls-key ${keyPath}: not a PEM private key (an encrypted key is not supported)`)
  }
  if (!certificate.checkPrivateKey(privateKey))
    throw new ConfigError(`--tls-key ${keyPath} is not the private key of --tls-cert ${certPath}`)
  return { cert, key }
}

function readPem(path: string, flag: string): string {
  try {
    return readFileSync(path, 'utf8')
  } catch (error) {
    const code = (error as { code?: string }).code
    const reason =
      code === 'ENOENT'
        ? 'no such file'
        : code === 'EACCES'
          ? 'permission denied'
          : code === 'EISDIR'
            ? 'a directory, not a file'
            : String(code ?? error)
    throw new ConfigError(`${flag} ${path}: cannot read it (${reason})`)
  }
}
