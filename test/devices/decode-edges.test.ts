import { describe, expect, it } from 'vitest'
import { DEFAULT_TIME_WINDOW, type Decoded, decodeTelemetry, deviceTypeOf, fromSenml } from '#devices'

const enc = (s: string) => new TextEncoder().encode(s)
const now = Date.parse('2026-11-22T12:00:00Z')
const bin = deviceTypeOf('bin')!
const boiler = deviceTypeOf('boiler')!
const good = { fillingLevel: 0.42, temperature: 11.5, batteryPct: 80, tilted: false }

// Times go in as JSON text: JSON.stringify cannot write -0, 1e999 or an exact 2^53.
const native = (tsText: string) => enc(`{"ts":${tsText},"readings":${JSON.stringify(good)}}`)
const senml = (btText: string, tText?: string) =>
  enc(
    `[{"bn":"urn:dev:sp:bin-1:","bt":${btText},"n":"fillingLevel","u":"/","v":0.42${tText === undefined ? '' : `,"t":${tText}`}},` +
      '{"n":"temperature","u":"Cel","v":11.5},{"n":"batteryPct","u":"%","v":80},{"n":"tilted","vb":false}]',
  )

type Expected = 'accepted' | 'PAYLOAD_INVALID' | 'TIMESTAMP_OUT_OF_WINDOW'

function expectOutcome(d: Decoded, expected: Expected, reason?: RegExp) {
  if (expected === 'accepted') expect(d).toMatchObject({ outcome: 'accepted' })
  else expect(d).toMatchObject({ outcome: 'rejected', code: expected })
  if (d.outcome === 'rejected') {
    expect(d.reason).not.toMatch(/Invalid (time|Date)/)
    if (reason) expect(d.reason).toMatch(reason)
  } else {
    expect(Number.isSafeInteger(d.ts)).toBe(true)
  }
  expect(() => JSON.stringify(d)).not.toThrow()
}

// A decoder left in a bad state by the edge case would show up on the next, ordinary message.
function expectGoodAfter() {
  expect(decodeTelemetry(native(String(now - 1000)), bin, now)).toMatchObject({ outcome: 'accepted', ts: now - 1000, readings: good })
  expect(decodeTelemetry(senml(String((now - 60_000) / 1000)), bin, now)).toMatchObject({ outcome: 'accepted', ts: now - 60_000 })
}

const { lateMs, earlyMs } = DEFAULT_TIME_WINDOW

describe('decodeTelemetry() timestamp edges, native JSON (epoch ms or ISO 8601)', () => {
  it.each<[string, string, Expected, RegExp?]>([
    ['Date max 8.64e15', '8640000000000000', 'TIMESTAMP_OUT_OF_WINDOW', /\+275760-09-13T00:00:00\.000Z/],
    ['Date max + 1', '8640000000000001', 'TIMESTAMP_OUT_OF_WINDOW', /8640000000000001/],
    ['2^53 - 1, the largest the schema admits', '9007199254740991', 'TIMESTAMP_OUT_OF_WINDOW', /9007199254740991/],
    ['2^53, not a safe integer', '9007199254740992', 'PAYLOAD_INVALID'],
    ['1e308', '1e308', 'PAYLOAD_INVALID'],
    ['1e999 (Infinity once parsed)', '1e999', 'PAYLOAD_INVALID'],
    ['Date min -8.64e15', '-8640000000000000', 'PAYLOAD_INVALID'],
    ['negative zero', '-0', 'PAYLOAD_INVALID'],
    ['zero', '0', 'PAYLOAD_INVALID'],
    ['negative', '-1', 'PAYLOAD_INVALID'],
    ['fractional', String(now - 0.5), 'PAYLOAD_INVALID'],
    ['1 ms after the epoch', '1', 'TIMESTAMP_OUT_OF_WINDOW', /1970-01-01T00:00:00\.001Z/],
    ['ISO past Date max', '"275760-09-13T00:00:00.001Z"', 'PAYLOAD_INVALID'],
    ['ISO expanded year', '"+275760-09-13T00:00:00.000Z"', 'PAYLOAD_INVALID'],
    ['ISO negative expanded year', '"-000001-01-01T00:00:00Z"', 'PAYLOAD_INVALID'],
    ['ISO year 0000', '"0000-01-01T00:00:00Z"', 'TIMESTAMP_OUT_OF_WINDOW', /0000-01-01T00:00:00\.000Z/],
    ['ISO year 0000 with the largest offset', '"0000-01-01T00:00:00+23:59"', 'TIMESTAMP_OUT_OF_WINDOW'],
    ['ISO year 9999 with the smallest offset', '"9999-12-31T23:59:59.999-23:59"', 'TIMESTAMP_OUT_OF_WINDOW'],
    ['ISO with many fraction digits', '"2026-11-22T11:59:00.123456789012345678901234567890Z"', 'accepted'],
    ['ISO 24:00', '"2026-11-22T24:00:00Z"', 'PAYLOAD_INVALID'],
    ['now', String(now), 'accepted'],
    ['the oldest time in the window', String(now - lateMs), 'accepted'],
    ['1 ms before the window', String(now - lateMs - 1), 'TIMESTAMP_OUT_OF_WINDOW'],
    ['the latest time in the window', String(now + earlyMs), 'accepted'],
    ['1 ms after the window', String(now + earlyMs + 1), 'TIMESTAMP_OUT_OF_WINDOW'],
  ])('%s', (_name, tsText, expected, reason) => {
    expectOutcome(decodeTelemetry(native(tsText), bin, now), expected, reason)
    expectGoodAfter()
  })
})

describe('decodeTelemetry() timestamp edges, SenML (bt + t in seconds)', () => {
  it.each<[string, string, string | undefined, Expected, RegExp?]>([
    ['bt at Date max', '8640000000000', undefined, 'TIMESTAMP_OUT_OF_WINDOW', /\+275760-09-13T00:00:00\.000Z/],
    ['bt 1 ms past Date max', '8640000000000.001', undefined, 'TIMESTAMP_OUT_OF_WINDOW', /8640000000000001/],
    ['bt 2^53 s', '9007199254740992', undefined, 'TIMESTAMP_OUT_OF_WINDOW', /9007199254740992000/],
    ['bt 1e308 (overflows in ms)', '1e308', undefined, 'PAYLOAD_INVALID'],
    ['bt + t overflowing to Infinity', '1e308', '1e308', 'PAYLOAD_INVALID'],
    ['bt -1e308 (relative, overflows)', '-1e308', undefined, 'PAYLOAD_INVALID'],
    ['t -1e308 on an absolute bt', String(now / 1000), '-1e308', 'PAYLOAD_INVALID'],
    ['bt 1e999 (Infinity once parsed)', '1e999', undefined, 'PAYLOAD_INVALID'],
    ['bt -8.64e12 s (relative, far past)', '-8640000000000', undefined, 'TIMESTAMP_OUT_OF_WINDOW'],
    ['bt just below 2^28 (relative, 8.5 years ahead)', String(2 ** 28 - 1), undefined, 'TIMESTAMP_OUT_OF_WINDOW'],
    ['bt 2^28 (absolute, 1978)', String(2 ** 28), undefined, 'TIMESTAMP_OUT_OF_WINDOW', /1978-/],
    ['bt -2^28 - 1 (relative, far past; once taken as arrival time)', String(-(2 ** 28) - 1), undefined, 'TIMESTAMP_OUT_OF_WINDOW'],
    ['bt -0 ("now")', '-0', undefined, 'accepted'],
    ['bt 0 ("now")', '0', undefined, 'accepted'],
    ['bt negative (relative)', '-30', undefined, 'accepted'],
    ['bt fractional', String((now - 60_000) / 1000 + 0.0004), undefined, 'accepted'],
    ['bt + t', String(now / 1000), '-30', 'accepted'],
  ])('%s', (_name, bt, t, expected, reason) => {
    expectOutcome(decodeTelemetry(senml(bt, t), bin, now), expected, reason)
    expectGoodAfter()
  })

  it('reads 0, -0 and relative times from now', () => {
    expect(decodeTelemetry(senml('-0'), bin, now)).toMatchObject({ ts: now })
    expect(decodeTelemetry(senml('0'), bin, now)).toMatchObject({ ts: now })
    expect(decodeTelemetry(senml('-30.5'), bin, now)).toMatchObject({ ts: now - 30_500 })
    expect(decodeTelemetry(senml(String(now / 1000), '-30'), bin, now)).toMatchObject({ ts: now - 30_000 })
  })
})

describe('decodeTelemetry() other edges', () => {
  it('refuses names that would reach Object.prototype', () => {
    for (const n of ['__proto__', 'constructor', 'toString', 'hasOwnProperty']) {
      const d = decodeTelemetry(enc(JSON.stringify([{ n, v: 1 }])), bin, now)
      expect(d).toMatchObject({ outcome: 'rejected', code: 'PAYLOAD_INVALID' })
    }
    for (const text of [
      `{"readings":{"__proto__":${JSON.stringify(good)}}}`,
      `{"__proto__":{"readings":${JSON.stringify(good)}},"readings":{}}`,
    ]) {
      expect(decodeTelemetry(enc(text), bin, now)).toMatchObject({ outcome: 'rejected', code: 'PAYLOAD_INVALID' })
    }
    // zod's record copy drops a "__proto__" key, so the strict readings schema never sees it: harmless, the rest is a valid reading.
    const d = decodeTelemetry(enc(`{"readings":{"__proto__":{"x":1},${JSON.stringify(good).slice(1)}}`), bin, now)
    expect(d).toMatchObject({ outcome: 'accepted', readings: good })
    if (d.outcome === 'accepted') expect(Object.getPrototypeOf(d.readings)).toBe(Object.prototype)
    expect(Object.hasOwn(Object.prototype, 'fillingLevel')).toBe(false)
    expectGoodAfter()
  })

  it.each([
    ['-0', '-0', 'accepted'],
    ['the smallest denormal', '5e-324', 'accepted'],
    ['Number.MAX_VALUE', '1.7976931348623157e308', 'rejected'],
    ['-Number.MAX_VALUE', '-1.7976931348623157e308', 'rejected'],
    ['1e999', '1e999', 'rejected'],
  ])('takes %s in every numeric reading without breaking', (_name, text, outcome) => {
    for (const field of ['fillingLevel', 'temperature', 'batteryPct']) {
      const readings = JSON.stringify(good).replace(new RegExp(`"${field}":[^,}]+`), `"${field}":${text}`)
      const d = decodeTelemetry(enc(`{"readings":${readings}}`), bin, now)
      expect(d.outcome).toBe(outcome)
      if (d.outcome !== 'rejected') {
        for (const v of Object.values(d.readings)) if (typeof v === 'number') expect(Number.isFinite(v)).toBe(true)
      }
      expect(() => JSON.stringify(d)).not.toThrow()
    }
  })

  it('is total when the caller passes a broken clock or window', () => {
    const plain = enc(JSON.stringify({ readings: good }))
    for (const clock of [Number.NaN, Number.POSITIVE_INFINITY, Number.NEGATIVE_INFINITY, 1e308]) {
      expectOutcome(decodeTelemetry(plain, bin, clock), 'TIMESTAMP_OUT_OF_WINDOW')
      expectOutcome(decodeTelemetry(native(String(now)), bin, clock), 'TIMESTAMP_OUT_OF_WINDOW')
      expect(decodeTelemetry(senml('-30'), bin, clock).outcome).toBe('rejected')
    }
    expectOutcome(decodeTelemetry(native(String(now)), bin, now, { lateMs: Number.NaN, earlyMs: 0 }), 'TIMESTAMP_OUT_OF_WINDOW')
    // A fractional clock still stamps whole milliseconds.
    expect(decodeTelemetry(plain, bin, now + 0.7)).toMatchObject({ outcome: 'accepted', ts: now })
  })

  it('keeps a huge ISO-like string out of the reason', () => {
    const d = decodeTelemetry(enc(JSON.stringify({ ts: `2026-11-22T12:00:00.${'1'.repeat(15_000)}Z`, readings: good })), bin, now)
    expect(d.outcome).toBe('accepted')
    const junk = decodeTelemetry(enc(JSON.stringify({ ts: 'x'.repeat(15_000), readings: good })), bin, now)
    expect(junk).toMatchObject({ outcome: 'rejected', code: 'PAYLOAD_INVALID' })
    if (junk.outcome === 'rejected') expect(junk.reason.length).toBeLessThan(200)
  })

  it('accepts a boiler reading right after a rejected SenML pack', () => {
    const pack = [{ bn: 'urn:dev:sp:b-1:', bt: 1e308, n: 'flowTemp', u: 'Cel', v: 61 }]
    expect(decodeTelemetry(enc(JSON.stringify(pack)), boiler, now)).toMatchObject({ outcome: 'rejected', code: 'PAYLOAD_INVALID' })
    const ok = { flowTemp: 65, returnTemp: 50, pressureBar: 1.6, burnerOn: true, lockout: false }
    expect(decodeTelemetry(enc(JSON.stringify({ ts: now, readings: ok })), boiler, now)).toMatchObject({ outcome: 'accepted', ts: now })
  })
})

describe('fromSenml() on packs the schema never saw', () => {
  const unitsOf = (f: string) => (f === 'fillingLevel' ? '/' : undefined)

  it.each([
    ['NaN v', [{ n: 'fillingLevel', v: Number.NaN }], '0.v'],
    ['Infinity v', [{ n: 'fillingLevel', v: Number.POSITIVE_INFINITY }], '0.v'],
    ['NaN bt', [{ n: 'fillingLevel', v: 0.5, bt: Number.NaN }], '0.bt'],
    ['Infinity t', [{ n: 'fillingLevel', v: 0.5, t: Number.POSITIVE_INFINITY }], '0.t'],
    ['-Infinity bt', [{ n: 'fillingLevel', v: 0.5, bt: Number.NEGATIVE_INFINITY }], '0.bt'],
  ])('returns an issue for %s', (_name, pack, path) => {
    const r = fromSenml(pack, unitsOf, now)
    expect(r.ok).toBe(false)
    if (!r.ok) expect(r.issues.map((i) => i.path)).toContain(path)
  })

  it('never writes __proto__, whatever unitsOf says', () => {
    const r = fromSenml([{ n: '__proto__', v: 1 }], () => 'x', now)
    expect(r).toMatchObject({ ok: false, issues: [{ path: '0.n' }] })
  })
})
