import { randomBytes } from 'node:crypto'
import { describe, expect, it } from 'vitest'
import { findLeaks } from './leaks.ts'

const line = (o: Record<string, unknown>) => JSON.stringify({ level: 30, time: 1, pid: 1, hostname: 'vm', ...o })
const kinds = (text: string, secrets: string[] = []) => findLeaks(text, secrets).map((l) => l.kind)

describe('the log leak check (run over the whole suite by scripts/test.sh)', () => {
  it('finds a secret the tests made anywhere in a line', () => {
    expect(kinds(line({ msg: 'signed in with hunter2-correct-horse' }), ['hunter2-correct-horse'])).toEqual(['known-secret'])
  })

  it('finds API tokens, 256-bit random values, emails and client addresses by their shape', () => {
    expect(kinds(line({ t: `spt_${randomBytes(32).toString('base64url')}` }))).toEqual(['api-token'])
    expect(kinds(line({ s: randomBytes(32).toString('base64url') }))).toEqual(['random-secret'])
    expect(kinds(line({ who: 'alice.smith@kingston.gov.uk' }))).toEqual(['email'])
    expect(kinds(line({ address: '10.1.2.3' }))).toEqual(['ip-address'])
    expect(kinds(line({ remoteAddress: '::1' }))).toEqual(['ip-address'])
    expect(kinds(line({ remoteAddress: '2001:db8::7' }))).toEqual(['ip-address'])
    expect(kinds(line({ remoteAddress: '::ffff:192.0.2.1' }))).toEqual(['ip-address'])
  })

  it('finds credential-named fields with a value, unless redacted', () => {
    expect(kinds(line({ password: 'x' }))).toEqual(['credential-field'])
    expect(kinds(line({ headers: { authorization: 'Bearer x' } }))).toEqual(['credential-field'])
    expect(kinds(line({ password: '[Redacted]' }))).toEqual([])
  })

  it('finds a password change body (current, next) and an OIDC client secret, wherever they are nested', () => {
    expect(kinds(line({ body: { current: 'old pass phrase', next: 'new pass phrase' } }))).toEqual(['credential-field'])
    expect(kinds(line({ next: 'a sensible new passphrase' }))).toEqual(['credential-field'])
    expect(kinds(line({ req: { body: { current: 'the one-time one' } } }))).toEqual(['credential-field'])
    expect(kinds(line({ form: { client_secret: 'short-test-secret' } }))).toEqual(['credential-field'])
    expect(kinds(line({ body: { current: '[Redacted]', next: '[Redacted]' } }))).toEqual([])
  })

  it('passes what the service does log: where it listens, device ids, times, counts', () => {
    const ok = [
      line({ http: 'http://127.0.0.1:41234', mqtt: 1883, msg: 'smartplace started' }),
      line({ deviceId: 'bin-0001', clientId: 'boiler-12', msg: 'mqtt refused', reason: 'bad-credentials' }),
      line({ req: { method: 'POST', route: '/api/auth/sign-in' }, res: { statusCode: 401 }, responseTime: 12.5 }),
      line({ version: '1.2.3', ts: '2026-11-30T16:00:00.000Z', alertId: '0b7f3c1e-3f0e-4b9a-9d55-1f2e3d4c5b6a' }),
    ].join('\n')
    expect(findLeaks(ok, [])).toEqual([])
  })

  it('passes a server the service could not reach and a certificate naming its own address, but not a client beside them', () => {
    const reader = line({ err: 'InfluxDB write failed: connect ECONNREFUSED 127.0.0.1:8086', msg: 'log reader failed' })
    const cert = line({ certificate: { subjectAltName: 'IP Address:127.0.0.1, DNS:localhost' } })
    expect(findLeaks([reader, cert].join('\n'), [])).toEqual([])
    expect(kinds(line({ err: 'connect ECONNREFUSED 127.0.0.1:8086', client: '192.0.2.7' }))).toEqual(['ip-address'])
  })

  it('reads only structured log lines, not the banner a start prints', () => {
    expect(kinds('  create the first admin: npm run people -- create-admin --email you@council.gov.uk')).toEqual([])
    expect(kinds(line({ msg: 'x', who: 'you@council.gov.uk' }))).toEqual(['email'])
  })

  it('says which line leaked', () => {
    const text = [line({ msg: 'fine' }), line({ msg: 'fine' }), line({ email: 'bob@example.org' })].join('\n')
    expect(findLeaks(text, [])).toEqual([expect.objectContaining({ kind: 'email', line: 3 })])
  })
})
