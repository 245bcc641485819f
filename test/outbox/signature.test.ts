import { Webhook } from 'standardwebhooks'
import { describe, expect, it } from 'vitest'
import { keyOfSecret, signatureHeader, webhookHeaders } from '../../outbox/signature.ts'
import { newWebhookSecret } from '../../store/webhook-store.ts'

// standards.md §2: the test vector of the reference libraries (libraries/python/tests/test_webhooks.py).
const VECTOR = {
  secret: 'whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw',
  id: 'msg_p5jXN8AQM9LWM0D4loKWxJek',
  ts: 1614265330,
  body: '{"test": 2432232314}',
  signature: 'v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE=',
}

describe('Standard Webhooks signing', () => {
  it('gives the specification test vector', () => {
    expect(signatureHeader([keyOfSecret(VECTOR.secret)], VECTOR.id, VECTOR.ts, VECTOR.body)).toBe(VECTOR.signature)
  })

  it('verifies with the reference library, for a fresh secret and the exact body sent', () => {
    const { secret, key } = newWebhookSecret()
    expect(secret).toMatch(/^whsec_[A-Za-z0-9+/]{43}=$/)
    expect(keyOfSecret(secret).equals(key)).toBe(true)
    const body = JSON.stringify({
      type: 'alert.raised',
      timestamp: new Date().toISOString(),
      data: { alertId: 'a', note: 'naïve £ “quotes”' },
    })
    const headers = webhookHeaders([key], 'msg_ah42', body)
    expect(new Webhook(secret).verify(body, headers)).toEqual(JSON.parse(body))
    // One changed byte, and the reference refuses it.
    expect(() => new Webhook(secret).verify(body.replace('a"', 'b"'), headers)).toThrow()
  })

  it('signs with both keys during a rotation: a receiver with either secret accepts', () => {
    const old = newWebhookSecret()
    const next = newWebhookSecret()
    const body = '{"type":"alert.cleared"}'
    const headers = webhookHeaders([next.key, old.key], 'msg_ah7', body)
    expect(headers['webhook-signature']!.split(' ')).toHaveLength(2)
    expect(() => new Webhook(old.secret).verify(body, headers)).not.toThrow()
    expect(() => new Webhook(next.secret).verify(body, headers)).not.toThrow()
    expect(() => new Webhook(newWebhookSecret().secret).verify(body, headers)).toThrow()
  })

  it("puts this attempt's time in webhook-timestamp and refuses an id with a dot", () => {
    const { key } = newWebhookSecret()
    expect(webhookHeaders([key], 'msg_1', '{}', 1_700_000_000_999)['webhook-timestamp']).toBe('1700000000')
    expect(() => signatureHeader([key], 'msg.1', 1, '{}')).toThrow(/must not contain/)
  })
})
