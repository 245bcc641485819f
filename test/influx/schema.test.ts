import { describe, expect, it } from 'vitest'
import { DEVICE_TYPES, decodeTelemetry, type ReadingRecord } from '#devices'
import { readingLine } from '../../influx/schema.ts'

const T = Date.parse('2026-11-30T09:00:00Z')
const record = (readings: Record<string, unknown>, deviceId = 'bin-ldds75'): ReadingRecord => ({
  kind: 'reading',
  deviceId,
  type: 'bin',
  site: 'croydon',
  uprn: null,
  ts: T,
  receivedAt: T,
  quality: 'good',
  // Cast: the log's schema admits no undefined or null, but the line must not depend on that.
  readings: readings as ReadingRecord['readings'],
})

describe('readingLine: fields a sensor does not measure', () => {
  it('writes only the fields a bin reading has: no temperature or tilted when the sensor lacks them', () => {
    const d = decodeTelemetry(
      new TextEncoder().encode(JSON.stringify({ ts: T, readings: { fillingLevel: 0.4, batteryPct: 84 } })),
      DEVICE_TYPES.bin,
      T,
    )
    expect(d.outcome).toBe('accepted')
    const line = readingLine(record(d.outcome === 'rejected' ? {} : d.readings))
    expect(line).toBe(`bin,device_id=bin-ldds75,site=croydon fillingLevel=0.4,batteryPct=84.0 ${T}`)
  })

  it('omits a field that is undefined, null or not a finite number rather than writing null, NaN or a made-up 0', () => {
    const line = readingLine(
      record({ fillingLevel: 0.4, temperature: undefined, batteryPct: 84, tilted: null, spare: Number.NaN }, 'bin-odd'),
    )
    expect(line).toBe(`bin,device_id=bin-odd,site=croydon fillingLevel=0.4,batteryPct=84.0 ${T}`)
  })

  it('keeps a measured upright bin as tilted=0.0 (false is a value, not an absence)', () => {
    const line = readingLine(record({ fillingLevel: 0.4, temperature: 9, batteryPct: 84, tilted: false }, 'bin-em400'))
    expect(line).toBe(`bin,device_id=bin-em400,site=croydon fillingLevel=0.4,temperature=9.0,batteryPct=84.0,tilted=0.0 ${T}`)
  })
})
