import { execFileSync } from 'node:child_process'
import { randomBytes, X509Certificate } from 'node:crypto'
import { readFileSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'

export interface Pem {
  cert: string
  key: string
}

// Keys are made per test run with the openssl CLI, so no private key is ever committed.
const openssl = (...args: string[]) => execFileSync('openssl', args, { stdio: ['ignore', 'ignore', 'pipe'] })
const ec = ['-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:P-256', '-nodes']

/** A self-signed certificate authority, as a council would run for its devices. */
export function makeCa(dir: string, name: string): Pem {
  const pem = { cert: join(dir, `${name}.pem`), key: join(dir, `${name}.key`) }
  openssl('req', '-x509', ...ec, '-keyout', pem.key, '-out', pem.cert, '-days', '2', '-subj', `/CN=${name} test CA`)
  return pem
}

/** A server certificate for 127.0.0.1 and localhost, signed by `ca`, with a fresh key. */
export function issueServerCert(dir: string, ca: Pem, name: string): Pem {
  const pem = { cert: join(dir, `${name}.pem`), key: join(dir, `${name}.key`) }
  const csr = join(dir, `${name}.csr`)
  const ext = join(dir, `${name}.ext`)
  writeFileSync(
    ext,
    'subjectAltName=IP:127.0.0.1,DNS:localhost\nbasicConstraints=CA:FALSE\nkeyUsage=digitalSignature\nextendedKeyUsage=serverAuth\n',
  )
  openssl('req', '-new', ...ec, '-keyout', pem.key, '-out', csr, '-subj', '/CN=localhost')
  const serial = `0x${randomBytes(8).toString('hex')}`
  openssl(
    'x509',
    '-req',
    '-in',
    csr,
    '-CA',
    ca.cert,
    '-CAkey',
    ca.key,
    '-set_serial',
    serial,
    '-days',
    '2',
    '-extfile',
    ext,
    '-out',
    pem.cert,
  )
  return pem
}

/** A private key on its own (one that belongs to no certificate). */
export function makeKey(dir: string, name: string): string {
  const key = join(dir, `${name}.key`)
  openssl('genpkey', '-algorithm', 'EC', '-pkeyopt', 'ec_paramgen_curve:P-256', '-out', key)
  return key
}

export const fingerprint = (certFile: string) => new X509Certificate(readFileSync(certFile)).fingerprint256
