import fc from 'fast-check'
import { describe, expect, it } from 'vitest'
import {
  DEFAULT_TIME_WINDOW,
  DEVICE_TYPE_NAMES,
  type Decoded,
  type DeviceTypeDef,
  decodeTelemetry,
  deviceTypeOf,
  ERROR_CODES,
  fromSenml,
  type TimeWindow,
} from '#devices'

const now = Date.parse('2026-11-22T12:00:00Z')
const defOf = (type: string) => deviceTypeOf(type)!
const defs = DEVICE_TYPE_NAMES.map(defOf)
// Names rather than definitions, so that a counterexample prints as "bin" and not as the whole catalog entry.
const typeName = fc.constantFrom(...DEVICE_TYPE_NAMES)
const enc = (s: string) => new TextEncoder().encode(s)

/**
 * JSON text that keeps what JSON.stringify loses: -0 stays -0, ±Infinity is written
 * as ±1e999 (which JSON.parse reads back as ±Infinity), NaN as NaN (not JSON at all).
 */
function jsonText(v: unknown): string {
  const text = JSON.stringify(v, (_k, x: unknown) =>
    typeof x === 'number' && (!Number.isFinite(x) || Object.is(x, -0)) ? `@@${Object.is(x, -0) ? '-0' : String(x)}@@` : x,
  )
  return (text ?? 'null').replace(/"@@(-0|NaN|Infinity|-Infinity)@@"/g, (_m, n: string) =>
    n === 'Infinity' ? '1e999' : n === '-Infinity' ? '-1e999' : n,
  )
}

/** The invariants every result must hold, whatever went in. */
function checkResult(d: Decoded, def: DeviceTypeDef, at = now, window: TimeWindow = DEFAULT_TIME_WINDOW) {
  expect(['accepted', 'suspicious', 'rejected']).toContain(d.outcome)
  if (d.outcome === 'rejected') {
    expect(Object.hasOwn(ERROR_CODES, d.code)).toBe(true)
    expect(typeof d.reason).toBe('string')
    expect(d.reason).not.toMatch(/Invalid (time|Date)/)
    expect(Array.isArray(d.issues)).toBe(true)
  } else {
    expect(Number.isSafeInteger(d.ts)).toBe(true)
    expect(d.ts).toBeGreaterThanOrEqual(at - window.lateMs)
    expect(d.ts).toBeLessThanOrEqual(at + window.earlyMs)
    // Downstream (live state, alerts) prints the time.
    expect(() => new Date(d.ts).toISOString()).not.toThrow()
    for (const [k, v] of Object.entries(d.readings)) {
      expect(Object.hasOwn(def.fields, k)).toBe(true)
      if (typeof v === 'number') expect(Number.isFinite(v)).toBe(true)
      else expect(['boolean', 'string']).toContain(typeof v)
    }
    expect(Object.getPrototypeOf(d.readings)).toBe(Object.prototype)
    expect(d.outcome === 'accepted').toBe(d.suspect.length === 0)
  }
  expect(() => JSON.stringify(d)).not.toThrow()
}

const decodeEach = (payload: Uint8Array, at = now, window?: TimeWindow) => {
  for (const def of defs) checkResult(decodeTelemetry(payload, def, at, window), def, at, window)
}

// Numbers from everywhere that matters: small, huge, Date's and Number's edges, the window's edges.
const edgeNumber = fc.constantFrom(
  0,
  -0,
  1,
  -1,
  0.5,
  Number.MIN_VALUE,
  -Number.MIN_VALUE,
  Number.MAX_VALUE,
  -Number.MAX_VALUE,
  Number.MAX_SAFE_INTEGER,
  Number.MAX_SAFE_INTEGER + 1,
  8.64e15,
  8.64e15 + 1,
  -8.64e15,
  -8.64e15 - 1,
  8.64e12,
  2 ** 28,
  2 ** 28 - 1,
  -(2 ** 28),
  1e308,
  -1e308,
  Number.POSITIVE_INFINITY,
  Number.NEGATIVE_INFINITY,
  Number.NaN,
  now,
  now / 1000,
  now - DEFAULT_TIME_WINDOW.lateMs,
  now + DEFAULT_TIME_WINDOW.earlyMs,
  now + DEFAULT_TIME_WINDOW.earlyMs + 1,
)
const anyNumber = fc.oneof(
  edgeNumber,
  fc.double(),
  fc.integer(),
  fc.maxSafeInteger(),
  fc.integer({ min: now - 2 * DEFAULT_TIME_WINDOW.lateMs, max: now + 2 * DEFAULT_TIME_WINDOW.earlyMs }),
)
const isoTime = fc.oneof(
  fc.date({ min: new Date(-8.64e15), max: new Date(8.64e15), noInvalidDate: true }).map((d) => d.toISOString()),
  fc
    .integer({ min: now - 2 * DEFAULT_TIME_WINDOW.lateMs, max: now + 2 * DEFAULT_TIME_WINDOW.earlyMs })
    .map((ms) => new Date(ms).toISOString()),
  fc.constantFrom(
    '275760-09-13T00:00:00.001Z',
    '+275760-09-13T00:00:00.000Z',
    '-271821-04-20T00:00:00.000Z',
    '0000-01-01T00:00:00Z',
    '0000-01-01T00:00:00+23:59',
    '9999-12-31T23:59:59.999-23:59',
    '2026-02-29T00:00:00Z',
    '2026-11-22T24:00:00Z',
    '2026-11-22T12:00:00.Z',
  ),
  fc.string({ maxLength: 40 }),
)
const anyTs = fc.oneof(anyNumber, isoTime, fc.jsonValue({ maxDepth: 2 }))
const specialKey = fc.constantFrom('__proto__', 'constructor', 'prototype', 'toString', 'hasOwnProperty', '', 'valueOf')
const anyValue = fc.oneof(anyNumber, fc.boolean(), fc.string({ maxLength: 300 }), fc.constant(null), fc.jsonValue({ maxDepth: 2 }))

/** A readings record around one device type's fields: right names with wrong or edge values, plus stray keys. */
const readingsFor = (def: DeviceTypeDef) =>
  fc
    .tuple(
      fc.record(Object.fromEntries(Object.keys(def.fields).map((f) => [f, anyValue])), { requiredKeys: [] }),
      fc.dictionary(fc.oneof(specialKey, fc.string({ maxLength: 10 })), anyValue, { maxKeys: 2 }),
    )
    .map(([known, stray]) => ({ ...stray, ...known }))

/** Readings that the device type's schema admits, so that properties also cover the accepted path. */
const validReadings: Record<string, fc.Arbitrary<Record<string, unknown>>> = {
  bin: fc.record({
    fillingLevel: fc.double({ min: 0, max: 1, noNaN: true }),
    temperature: fc.double({ min: -50, max: 200, noNaN: true }),
    batteryPct: fc.double({ min: 0, max: 100, noNaN: true }),
    tilted: fc.boolean(),
  }),
  boiler: fc.record(
    {
      flowTemp: fc.double({ min: -20, max: 110, noNaN: true }),
      returnTemp: fc.double({ min: -20, max: 110, noNaN: true }),
      pressureBar: fc.double({ min: 0, max: 6, noNaN: true }),
      burnerOn: fc.boolean(),
      lockout: fc.boolean(),
      faultCode: fc.stringMatching(/^[A-Za-z0-9.]{1,8}$/),
      roomHumidity: fc.double({ min: 0, max: 100, noNaN: true }),
      outsideTemp: fc.double({ min: -40, max: 50, noNaN: true }),
      heatingDemand: fc.boolean(),
    },
    { requiredKeys: ['flowTemp', 'returnTemp', 'pressureBar', 'burnerOn', 'lockout'] },
  ),
  meter: fc.record({ energyWh: fc.double({ min: 0, max: 1e13, noNaN: true }), powerW: fc.double({ min: 0, max: 1e7, noNaN: true }) }),
  room: fc.record(
    {
      temperature: fc.double({ min: -20, max: 60, noNaN: true }),
      humidity: fc.double({ min: 0, max: 100, noNaN: true }),
      batteryPct: fc.double({ min: 0, max: 100, noNaN: true }),
    },
    { requiredKeys: ['temperature', 'humidity'] },
  ),
  weather: fc.record(
    { outsideTemp: fc.double({ min: -40, max: 50, noNaN: true }), humidity: fc.double({ min: 0, max: 100, noNaN: true }) },
    { requiredKeys: ['outsideTemp'] },
  ),
}

const senmlRecord = (def: DeviceTypeDef) => {
  const names = Object.keys(def.fields)
  const units = Object.values(def.fields).map((m) => m.unit)
  return fc.record(
    {
      bn: fc.oneof(fc.constant('urn:dev:sp:x-1:'), fc.string({ maxLength: 20 })),
      bt: anyNumber,
      bu: fc.oneof(fc.constantFrom(...units), fc.string({ maxLength: 5 })),
      bver: fc.oneof(fc.integer(), anyNumber),
      n: fc.oneof(fc.constantFrom(...names), specialKey, fc.string({ maxLength: 20 })),
      u: fc.oneof(fc.constantFrom(...units), fc.string({ maxLength: 5 })),
      v: anyNumber,
      vb: fc.boolean(),
      vs: fc.string({ maxLength: 300 }),
      t: anyNumber,
      // A key SenML has (sum) and this schema does not.
      s: anyNumber,
    },
    { requiredKeys: [] },
  )
}

/** A SenML pack for a readings record; times[i] are the [bt, t] of record i, when given. */
function senmlOf(readings: Record<string, unknown>, times: [number | undefined, number | undefined][]) {
  return Object.entries(readings).map(([n, v], i) => {
    const [bt, t] = times[i] ?? []
    return {
      ...(i === 0 ? { bn: 'urn:dev:sp:x-1:' } : {}),
      ...(bt === undefined ? {} : { bt }),
      n,
      ...(typeof v === 'boolean' ? { vb: v } : typeof v === 'string' ? { vs: v } : { v }),
      ...(t === undefined ? {} : { t }),
    }
  })
}

describe('decodeTelemetry() never throws (property-based)', () => {
  it('on arbitrary bytes', () => {
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 512 }), (bytes) => decodeEach(bytes)),
      { numRuns: 300 },
    )
  })

  it('on arbitrary JSON text', () => {
    fc.assert(
      fc.property(fc.jsonValue(), (v) => decodeEach(enc(jsonText(v)))),
      { numRuns: 300 },
    )
  })

  it('on envelopes with arbitrary ts and readings around each device type', () => {
    fc.assert(
      fc.property(
        typeName.chain((type) =>
          fc.record({
            type: fc.constant(type),
            ts: fc.option(anyTs, { nil: undefined }),
            seq: fc.option(anyNumber, { nil: undefined }),
            readings: fc.oneof(readingsFor(defOf(type)), validReadings[type]!),
          }),
        ),
        ({ type, ...env }) => checkResult(decodeTelemetry(enc(jsonText(env)), defOf(type), now), defOf(type)),
      ),
      { numRuns: 500 },
    )
  })

  it('on SenML packs of arbitrary records', () => {
    fc.assert(
      fc.property(
        typeName.chain((type) => fc.tuple(fc.constant(type), fc.array(senmlRecord(defOf(type)), { maxLength: 8 }))),
        ([type, pack]) => {
          const def = defOf(type)
          checkResult(decodeTelemetry(enc(jsonText(pack)), def, now), def)
          // Straight to fromSenml as well, past the schema that would have refused NaN and Infinity.
          const fields = def.fields as Record<string, { unit: string }>
          const r = fromSenml(pack, (f) => (Object.hasOwn(fields, f) ? fields[f]!.unit : undefined), now)
          if (r.ok) {
            if (r.ts !== undefined) expect(Number.isInteger(r.ts)).toBe(true)
            for (const v of Object.values(r.readings)) if (typeof v === 'number') expect(Number.isFinite(v)).toBe(true)
          }
          expect(() => JSON.stringify(r)).not.toThrow()
        },
      ),
      { numRuns: 300 },
    )
  })

  it('on SenML packs of valid readings with arbitrary bt and t', () => {
    const time = fc.option(anyNumber, { nil: undefined })
    fc.assert(
      fc.property(
        typeName.chain((type) =>
          fc.record({
            type: fc.constant(type),
            readings: validReadings[type]!,
            times: fc.array(fc.tuple(time, time), { minLength: 7, maxLength: 7 }),
          }),
        ),
        ({ type, readings, times }) => checkResult(decodeTelemetry(enc(jsonText(senmlOf(readings, times))), defOf(type), now), defOf(type)),
      ),
      { numRuns: 500 },
    )
  })

  it('accepts valid readings at any time inside the window and rejects them outside it', () => {
    const { lateMs, earlyMs } = DEFAULT_TIME_WINDOW
    fc.assert(
      fc.property(
        typeName.chain((type) =>
          fc.record({
            type: fc.constant(type),
            readings: validReadings[type]!,
            ts: fc.integer({ min: now - 2 * lateMs, max: now + 2 * earlyMs }),
            form: fc.constantFrom('epoch', 'iso', 'senml'),
          }),
        ),
        ({ type, readings, ts, form }) => {
          const payload =
            form === 'senml'
              ? senmlOf(readings, [[ts / 1000, undefined]])
              : { ts: form === 'iso' ? new Date(ts).toISOString() : ts, readings }
          const d = decodeTelemetry(enc(jsonText(payload)), defOf(type), now)
          checkResult(d, defOf(type))
          const inside = ts >= now - lateMs && ts <= now + earlyMs
          expect(d.outcome === 'rejected' ? d.code : 'ok').toBe(inside ? 'ok' : 'TIMESTAMP_OUT_OF_WINDOW')
          if (d.outcome !== 'rejected') expect(d.ts).toBe(ts)
        },
      ),
      { numRuns: 500 },
    )
  })

  it('with an arbitrary clock and window', () => {
    fc.assert(
      fc.property(
        typeName.chain((type) =>
          fc.record({
            type: fc.constant(type),
            at: fc.oneof(anyNumber, fc.double()),
            window: fc.record({ lateMs: anyNumber, earlyMs: anyNumber }),
            ts: fc.option(anyTs, { nil: undefined }),
            readings: validReadings[type]!,
            senml: fc.boolean(),
          }),
        ),
        ({ type, at, window, ts, readings, senml }) => {
          const payload = senml ? senmlOf(readings, [[typeof ts === 'number' ? ts : undefined, undefined]]) : { ts, readings }
          checkResult(decodeTelemetry(enc(jsonText(payload)), defOf(type), at, window), defOf(type), at, window)
        },
      ),
      { numRuns: 500 },
    )
  })
})
