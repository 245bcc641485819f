import { describe, expect, it } from 'vitest'
import { DEVICE_TYPES, decodeTelemetry } from '#devices'
import { encodeReading } from '../../simulators/payload.ts'

const enc = (v: unknown) => new TextEncoder().encode(typeof v === 'string' ? v : JSON.stringify(v))
const now = Date.parse('2026-11-22T12:00:00Z')

describe('SenML (RFC 8428) telemetry', () => {
  it('resolves a pack with base name, base time and units into the same reading as native JSON', () => {
    const readings = { fillingLevel: 0.42, temperature: 11.5, batteryPct: 80, tilted: false }
    const senml = encodeReading('senml', 'bin', 'bin-1', now - 60_000, 0, readings)
    expect(JSON.parse(senml)[0]).toMatchObject({ bn: 'urn:dev:sp:bin-1:', bt: (now - 60_000) / 1000, n: 'fillingLevel', u: '/', v: 0.42 })
    expect(decodeTelemetry(enc(senml), DEVICE_TYPES.bin, now)).toMatchObject({ outcome: 'accepted', ts: now - 60_000, readings })
  })

  it('reads relative times from now and string values', () => {
    const pack = [
      { bn: 'urn:dev:sp:b-1:', bt: -30, n: 'flowTemp', u: 'Cel', v: 61 },
      { n: 'returnTemp', u: 'Cel', v: 45 },
      { n: 'pressureBar', u: 'bar', v: 1.5 },
      { n: 'burnerOn', vb: true },
      { n: 'lockout', vb: false },
      { n: 'faultCode', vs: 'F.28' },
    ]
    expect(decodeTelemetry(enc(pack), DEVICE_TYPES.boiler, now)).toMatchObject({
      outcome: 'accepted',
      ts: now - 30_000,
      readings: { faultCode: 'F.28' },
    })
  })

  it.each([
    ['a wrong unit', [{ n: 'pressureBar', u: 'Pa', v: 150000 }], /is in bar, not Pa/],
    ['an unknown name', [{ n: 'colour', vs: 'green' }], /unknown reading/],
    ['a record without a value', [{ n: 'pressureBar', u: 'bar' }], /needs v, vb or vs/],
    ['a non-SenML array', [1, 2, 3], /SenML/],
  ])('quarantines %s', (_name, pack, message) => {
    const d = decodeTelemetry(enc(pack), DEVICE_TYPES.boiler, now)
    expect(d.outcome).toBe('rejected')
    if (d.outcome === 'rejected') expect(`${d.reason} ${d.issues.map((i) => i.message).join(' ')}`).toMatch(message)
  })
})
