import { describe, expect, it } from 'vitest'
import { buildTopic, DEVICE_TYPES, decodeTelemetry, parseTopic } from '#devices'

const enc = (v: unknown) => new TextEncoder().encode(typeof v === 'string' ? v : JSON.stringify(v))
const now = Date.parse('2026-11-22T12:00:00Z')
const boiler = DEVICE_TYPES.boiler

describe('decodeTelemetry()', () => {
  const ok = { flowTemp: 65, returnTemp: 50, pressureBar: 1.6, burnerOn: true, lockout: false, faultCode: 'EA227' }

  it('accepts a valid reading with ISO or epoch time and stamps one without time on arrival', () => {
    expect(decodeTelemetry(enc({ ts: '2026-11-22T11:59:00Z', readings: ok }), boiler, now)).toMatchObject({
      outcome: 'accepted',
      ts: now - 60_000,
    })
    expect(decodeTelemetry(enc({ ts: now - 1, readings: ok }), boiler, now)).toMatchObject({ outcome: 'accepted', ts: now - 1 })
    expect(decodeTelemetry(enc({ readings: ok }), boiler, now)).toMatchObject({ outcome: 'accepted', ts: now })
  })

  it('flags implausible but schema-valid values as suspicious', () => {
    expect(decodeTelemetry(enc({ readings: { ...ok, pressureBar: 5 } }), boiler, now)).toMatchObject({
      outcome: 'suspicious',
      suspect: ['pressureBar'],
    })
  })

  it.each([
    ['not JSON', 'nope', 'PAYLOAD_NOT_JSON'],
    ['NaN is not JSON', '{"readings":{"pressureBar":NaN}}', 'PAYLOAD_NOT_JSON'],
    ['missing field', { readings: { ...ok, pressureBar: undefined } }, 'PAYLOAD_INVALID'],
    ['far future', { ts: now + 3_600_000, readings: ok }, 'TIMESTAMP_OUT_OF_WINDOW'],
    ['2099', { ts: '2099-01-01T00:00:00Z', readings: ok }, 'TIMESTAMP_OUT_OF_WINDOW'],
    ['unknown envelope key', { readings: ok, extra: 1 }, 'PAYLOAD_INVALID'],
    ['deep nesting within the size limit', `${'['.repeat(5_000)}${']'.repeat(5_000)}`, 'PAYLOAD_INVALID'],
    ['10,000-deep nesting, refused by size before parsing', `${'['.repeat(10_000)}${']'.repeat(10_000)}`, 'PAYLOAD_TOO_LARGE'],
  ])('rejects %s', (_name, payload, code) => {
    expect(decodeTelemetry(enc(payload), boiler, now)).toMatchObject({ outcome: 'rejected', code })
  })
})

describe('bin readings from sensors that lack a temperature or tilt sensor', () => {
  const bin = DEVICE_TYPES.bin
  const full = { fillingLevel: 0.4, temperature: 11, batteryPct: 80, tilted: false }

  it('accepts a reading without temperature, without tilted, or without both, and adds neither', () => {
    const { temperature: _t, ...noTemperature } = full
    const { tilted: _u, ...noTilt } = full
    for (const readings of [noTemperature, noTilt, { fillingLevel: 0.4, batteryPct: 80 }]) {
      const d = decodeTelemetry(enc({ ts: now, readings }), bin, now)
      expect(d).toMatchObject({ outcome: 'accepted' })
      expect(d.outcome !== 'rejected' && d.readings).toEqual(readings)
    }
  })

  it('still rejects a reading without fillingLevel or batteryPct, and a null where a field is not measured', () => {
    const cases: [Record<string, unknown>, string][] = [
      [{ temperature: 11, batteryPct: 80, tilted: false }, 'readings.fillingLevel'],
      [{ fillingLevel: 0.4 }, 'readings.batteryPct'],
      // "Not measured" is an absent field: null is a wrong value, not a way to say it.
      [{ ...full, temperature: null }, 'readings.temperature'],
    ]
    for (const [readings, path] of cases) {
      const d = decodeTelemetry(enc({ ts: now, readings }), bin, now)
      expect(d).toMatchObject({ outcome: 'rejected', code: 'PAYLOAD_INVALID' })
      expect(d.outcome === 'rejected' && d.issues.map((i) => i.path)).toEqual([path])
    }
  })
})

describe('topics', () => {
  it('round-trips and refuses anything outside the grammar', () => {
    const t = buildTopic({ site: 'north', type: 'bin', deviceId: 'bin-1', channel: 'telemetry' })
    expect(t).toBe('sp/v1/north/bin/bin-1/telemetry')
    expect(parseTopic(t)).toEqual({ site: 'north', type: 'bin', deviceId: 'bin-1', channel: 'telemetry' })
    for (const bad of [
      'sp/v1/north/bin/bin-1',
      'sp/v2/north/bin/bin-1/telemetry',
      'sp/v1/North/bin/bin-1/telemetry',
      'sp/v1/north/bin/+/telemetry',
      'sp/v1/north/bin/bin-1/other',
      'sp/v1/n\0/bin/b/telemetry',
    ]) {
      expect(parseTopic(bad), bad).toBeNull()
    }
  })
})
