import { createECDH, randomBytes } from 'node:crypto'
import { describe, expect, it } from 'vitest'
import webpush from 'web-push'
import { inQuietHours } from '#devices'
import { decryptPush, verifyVapid } from './rfc8291.ts'

describe('the test’s own Web Push decryption (RFC 8291) and VAPID check (RFC 8292)', () => {
  it('decrypts RFC 8291 Appendix A to its plaintext', () => {
    const b = (s: string) => Buffer.from(s, 'base64url')
    const body = b(
      'DGv6ra1nlYgDCS1FRnbzlwAAEABBBP4z9KsN6nGRTbVYI_c7VJSPQTBtkgcy27mlmlMoZIIgDll6e3vCYLocInmYWAmS6TlzAC8wEqKK6PBru3jl7A_yl95bQpu6cVPTpK4Mqgkf1CXztLVBSt2Ks3oZwbuwXPXLWyouBWLVWGNWQexSgSxsj_Qulcy4a-fN',
    )
    const plain = decryptPush(body, { privateKey: b('q1dXpw3UpT5VOmu_cf_v6ih07Aems3njxI-JWgLcM94'), auth: b('BTBZMqHH6r4Tts7J_aSIgg') })
    expect(plain.toString()).toBe('When I grow up, I want to be a watermelon')
    // One flipped bit anywhere in the record fails the tag.
    body[100] = body[100]! ^ 1
    expect(() =>
      decryptPush(body, { privateKey: b('q1dXpw3UpT5VOmu_cf_v6ih07Aems3njxI-JWgLcM94'), auth: b('BTBZMqHH6r4Tts7J_aSIgg') }),
    ).toThrow()
  })

  it('verifies a VAPID header that web-push makes, and refuses one signed by another key', () => {
    const ua = createECDH('prime256v1')
    ua.generateKeys()
    const sub = {
      endpoint: 'https://push.example.net/p/1',
      keys: { p256dh: ua.getPublicKey('base64url'), auth: randomBytes(16).toString('base64url') },
    }
    const vapid = webpush.generateVAPIDKeys()
    const req = webpush.generateRequestDetails(sub, 'hello', { vapidDetails: { subject: 'mailto:it@council.example', ...vapid } })
    const { claims, publicKey } = verifyVapid(req.headers.Authorization as string)
    expect(publicKey).toBe(vapid.publicKey)
    expect(claims).toMatchObject({ aud: 'https://push.example.net', sub: 'mailto:it@council.example' })
    expect(
      decryptPush(req.body as Buffer, { privateKey: ua.getPrivateKey(), auth: Buffer.from(sub.keys.auth, 'base64url') }).toString(),
    ).toBe('hello')
    const other = webpush.generateVAPIDKeys()
    const forged = (req.headers.Authorization as string).replace(/k=.*$/, `k=${other.publicKey}`)
    expect(() => verifyVapid(forged)).toThrow(/does not verify/)
  })
})

describe('quiet hours', () => {
  const at = (hh: number, mm = 0) => hh * 60 + mm
  it('hold from `from` up to `to`, across midnight too', () => {
    const night = { from: '22:00', to: '07:00' }
    expect([at(21, 59), at(22), at(2), at(6, 59), at(7)].map((m) => inQuietHours(night, m))).toEqual([false, true, true, true, false])
    const lunch = { from: '12:00', to: '13:30' }
    expect([at(11, 59), at(12), at(13, 29), at(13, 30)].map((m) => inQuietHours(lunch, m))).toEqual([false, true, true, false])
    expect(inQuietHours(null, at(3))).toBe(false)
    expect(inQuietHours({ from: '08:00', to: '08:00' }, at(8))).toBe(false)
  })
})
