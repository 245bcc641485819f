import { createDecipheriv, createECDH, createHmac, createPublicKey, verify } from 'node:crypto'

const hmac = (key: Buffer, data: Buffer) => createHmac('sha256', key).update(data).digest()

/**
 * Decrypts a Web Push message body (RFC 8291, aes128gcm record of RFC 8188) as the browser would,
 * with the browser's private key and auth secret. Written from the RFC, not from the library under
 * test, so a wrong encryption cannot pass by being undone the same wrong way.
 */
export function decryptPush(body: Buffer, ua: { privateKey: Buffer; auth: Buffer }): Buffer {
  const salt = body.subarray(0, 16)
  const rs = body.readUInt32BE(16)
  const idlen = body[20]!
  const asPublic = body.subarray(21, 21 + idlen)
  const record = body.subarray(21 + idlen)
  if (idlen !== 65) throw new Error(`keyid of ${idlen} bytes, not a P-256 point`)
  if (record.length > rs) throw new Error('more than one record')
  const ecdh = createECDH('prime256v1')
  ecdh.setPrivateKey(ua.privateKey)
  const uaPublic = ecdh.getPublicKey()
  const secret = ecdh.computeSecret(asPublic)
  const prkKey = hmac(ua.auth, secret)
  const ikm = hmac(prkKey, Buffer.concat([Buffer.from('WebPush: info\0'), uaPublic, asPublic, Buffer.from([1])]))
  const prk = hmac(salt, ikm)
  const cek = hmac(prk, Buffer.from('Content-Encoding: aes128gcm\0\x01')).subarray(0, 16)
  const nonce = hmac(prk, Buffer.from('Content-Encoding: nonce\0\x01')).subarray(0, 12)
  const d = createDecipheriv('aes-128-gcm', cek, nonce)
  d.setAuthTag(record.subarray(record.length - 16))
  const padded = Buffer.concat([d.update(record.subarray(0, record.length - 16)), d.final()])
  // The last record ends with 0x02 then zero padding (RFC 8188 §2).
  let end = padded.length - 1
  while (end >= 0 && padded[end] === 0) end--
  if (padded[end] !== 2) throw new Error('no last-record delimiter')
  return padded.subarray(0, end)
}

/**
 * Checks a VAPID Authorization header (RFC 8292): `vapid t=<ES256 JWT>, k=<public key>`. Returns the
 * JWT's claims when its signature verifies with `k`; throws otherwise.
 */
export function verifyVapid(header: string | undefined): { claims: { aud: string; exp: number; sub: string }; publicKey: string } {
  const m = /^vapid t=([^,\s]+),\s*k=([A-Za-z0-9_-]+)$/.exec(header ?? '')
  if (!m) throw new Error(`not a VAPID authorization: ${header}`)
  const [jwt, k] = [m[1]!, m[2]!]
  const [h, p, s] = jwt.split('.') as [string, string, string]
  const header_ = JSON.parse(Buffer.from(h, 'base64url').toString()) as { alg: string }
  if (header_.alg !== 'ES256') throw new Error(`alg ${header_.alg}`)
  const point = Buffer.from(k, 'base64url')
  const key = createPublicKey({
    key: { kty: 'EC', crv: 'P-256', x: point.subarray(1, 33).toString('base64url'), y: point.subarray(33, 65).toString('base64url') },
    format: 'jwk',
  })
  const ok = verify('sha256', Buffer.from(`${h}.${p}`), { key, dsaEncoding: 'ieee-p1363' }, Buffer.from(s, 'base64url'))
  if (!ok) throw new Error('VAPID signature does not verify')
  return { claims: JSON.parse(Buffer.from(p, 'base64url').toString()), publicKey: k }
}
