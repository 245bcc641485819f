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
