import { createPrivateKey, type KeyObject, X509Certificate } from 'node:crypto'
import { readFileSync } from 'node:fs'
import { createSecureContext } from 'node:tls'

export interface TlsFiles {
  /** PEM: the server certificate first, then any intermediates. */
  certFile: string
  /** PEM private key, unencrypted. */
  keyFile: string
}

/** What a TLS server needs, checked to be usable together. */
export interface TlsMaterial {
  cert: Buffer
  key: Buffer
  /** For logs: which certificate is being served. */
  summary: { subject: string; subjectAltName: string | undefined; validTo: string; expired: boolean; fingerprint256: string }
}

export type TlsErrorCode = 'CONFIG_TLS_UNREADABLE' | 'CONFIG_TLS_INVALID'

/** A certificate or key that cannot be served; `hint` says what to do. */
export class TlsConfigError extends Error {
  readonly code: TlsErrorCode
  readonly hint: string
  constructor(code: TlsErrorCode, message: string, hint: string) {
    super(message)
    this.code = code
    this.hint = hint
  }
}

const read = (variable: string, path: string, hint: string): Buffer => {
  try {
    return readFileSync(path)
  } catch (e) {
    const err = e as NodeJS.ErrnoException
    throw new TlsConfigError('CONFIG_TLS_UNREADABLE', `${variable}: cannot read ${path} (${err.code ?? err.message})`, hint)
  }
}

/**
 * Reads and checks the certificate and key, with one precise reason when they
 * cannot be served. Used at start (so a bad file stops the service before it
 * listens) and on reload (so a bad file leaves the current certificate in place).
 */
export function loadTls(files: TlsFiles): TlsMaterial {
  const readable = "Check the path, and that the file is readable by the service's user (in Docker: mounted into the container)."
  const cert = read('MQTT_TLS_CERT', files.certFile, readable)
  const key = read('MQTT_TLS_KEY', files.keyFile, readable)

  let x509: X509Certificate
  try {
    x509 = new X509Certificate(cert)
  } catch {
    throw new TlsConfigError(
      'CONFIG_TLS_INVALID',
      `MQTT_TLS_CERT: ${files.certFile} holds no PEM certificate`,
      'It must contain "-----BEGIN CERTIFICATE-----" blocks: the server certificate first, then any intermediates (fullchain.pem).',
    )
  }
  let privateKey: KeyObject
  try {
    privateKey = createPrivateKey(key)
  } catch (e) {
    throw new TlsConfigError(
      'CONFIG_TLS_INVALID',
      `MQTT_TLS_KEY: ${files.keyFile} is not a usable PEM private key (${(e as Error).message})`,
      'Give an unencrypted PEM key (privkey.pem); keys protected by a passphrase are not supported.',
    )
  }
  if (!x509.checkPrivateKey(privateKey)) {
    throw new TlsConfigError(
      'CONFIG_TLS_INVALID',
      `MQTT_TLS_KEY: ${files.keyFile} does not belong to the certificate in ${files.certFile}`,
      'Install the certificate and the key of the same issuance; when renewing, replace both files before sending SIGHUP.',
    )
  }
  try {
    // What OpenSSL itself will accept for a handshake (e.g. a chain it cannot parse).
    createSecureContext({ cert, key })
  } catch (e) {
    throw new TlsConfigError(
      'CONFIG_TLS_INVALID',
      `MQTT_TLS_CERT/MQTT_TLS_KEY: OpenSSL refuses them (${(e as Error).message})`,
      'Check that both are PEM files from the same issuance.',
    )
  }
  const validTo = new Date(x509.validTo)
  return {
    cert,
    key,
    summary: {
      subject: x509.subject,
      subjectAltName: x509.subjectAltName,
      validTo: validTo.toISOString(),
      expired: validTo.getTime() < Date.now(),
      fingerprint256: x509.fingerprint256,
    },
  }
}
