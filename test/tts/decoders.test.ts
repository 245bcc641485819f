import { describe, expect, it } from 'vitest'
import {
  BinReadings,
  batteryPctFromVolts,
  draginoLdds75,
  elsysErs,
  fillFromDistance,
  milesightAm103,
  milesightBin,
  nativeReadings,
  RoomReadings,
  TTS_DECODERS,
  TtsApplicationUp,
  ttsDecoder,
} from '#devices'
import { fixture } from './fixtures.ts'

const BIN = { depthMm: 1200 }
const decodedOf = (name: Parameters<typeof fixture>[0]) => TtsApplicationUp.parse(fixture(name)).uplink_message!.decoded_payload!

describe('bin fill level from an ultrasonic distance', () => {
  it('reads the distance down to the waste against the container depth (and the full mark)', () => {
    expect(fillFromDistance(1200, { depthMm: 1200, fullMm: 0 })).toBe(0)
    expect(fillFromDistance(300, { depthMm: 1200, fullMm: 0 })).toBe(0.75)
    expect(fillFromDistance(200, { depthMm: 1200, fullMm: 200 })).toBe(1)
    expect(fillFromDistance(700, { depthMm: 1200, fullMm: 200 })).toBe(0.5)
  })
  it('reads past the bottom as empty, inside the blind zone as full, and no echo as no reading', () => {
    expect(fillFromDistance(2116, { depthMm: 1200, fullMm: 0 })).toBe(0)
    expect(fillFromDistance(50, { depthMm: 1200, fullMm: 200 })).toBe(1)
    expect(fillFromDistance(0, { depthMm: 1200, fullMm: 0 })).toBeNull()
    expect(fillFromDistance(Number.NaN, { depthMm: 1200, fullMm: 0 })).toBeNull()
  })
})

describe('Milesight EM400-MUD / EM310-UDL', () => {
  it('turns a recorded EM400-MUD uplink into bin readings our bin schema takes', () => {
    const r = milesightBin.decode(decodedOf('milesight-em400-mud'), BIN)
    expect(r).toEqual({ ok: true, readings: { fillingLevel: 0.303, temperature: 25.7, batteryPct: 92, tilted: false } })
    expect(BinReadings.safeParse((r as { readings: unknown }).readings).success).toBe(true)
  })
  it('reads position "tilt" as tilted (the knocked-over signal); an EM310-UDL has no temperature, which it leaves out', () => {
    const r = milesightBin.decode(decodedOf('milesight-em310-udl-tilt'), BIN)
    expect(r).toEqual({ ok: true, readings: { fillingLevel: 0, batteryPct: 87, tilted: true } })
    // Our bin type takes a reading without temperature: bin-fire waits for one, nothing is made up.
    expect(BinReadings.safeParse((r as { readings: unknown }).readings).success).toBe(true)
  })
  it('skips a device information frame: it carries no reading', () => {
    expect(milesightBin.decode(decodedOf('milesight-device-info'), BIN).ok).toBe('skip')
  })
  it('gives a reason, never an exception, for fields of the wrong kind, no echo or a bad position', () => {
    const r = milesightBin.decode({ battery: 'full', distance: 0, position: 'sideways', temperature: 20 }, BIN)
    expect(r.ok).toBe(false)
    expect(r.ok === false && r.issues.map((i) => i.path).sort()).toEqual([
      'decoded_payload.battery',
      'decoded_payload.distance',
      'decoded_payload.position',
    ])
    expect(milesightBin.decode({ distance: { nested: true } }, BIN).ok).toBe(false)
  })
  it('needs the container depth: a mapping without it is a reason, not a guess', () => {
    const r = milesightBin.decode(decodedOf('milesight-em400-mud'), {})
    expect(r.ok).toBe(false)
    expect(r.ok === false && r.issues[0]?.path).toBe('params.depthMm')
    expect(milesightBin.decode(decodedOf('milesight-em400-mud'), { depthMm: 500, fullMm: 600 }).ok).toBe(false)
  })
})

describe('Dragino LDDS75 (Dragino decoder)', () => {
  it('turns a recorded uplink into bin readings: volts to a percentage, the probe temperature from its string', () => {
    const r = draginoLdds75.decode(decodedOf('dragino-ldds75'), { depthMm: 1500, fullMm: 250 })
    expect(r).toEqual({ ok: true, readings: { fillingLevel: 0.4, temperature: 12.5, batteryPct: 84 } })
    expect(BinReadings.safeParse((r as { readings: unknown }).readings).success).toBe(true)
  })
  it('leaves tilted out (the LDDS75 has no tilt sensor: "upright" would be made up), and temperature without the probe', () => {
    const r = draginoLdds75.decode({ Bat: 3.3, Distance: 1000 }, { depthMm: 1500, fullMm: 250 })
    expect(r).toEqual({ ok: true, readings: { fillingLevel: 0.4, batteryPct: 50 } })
    expect(BinReadings.safeParse((r as { readings: unknown }).readings).success).toBe(true)
  })
  it('maps 3.0 V to 0 % and 3.6 V to 100 %, clamped', () => {
    expect([2.8, 3.0, 3.3, 3.6, 3.7].map(batteryPctFromVolts)).toEqual([0, 0, 50, 100, 100])
  })
  it('refuses a distance of 0 (no echo) with its field named', () => {
    const r = draginoLdds75.decode({ Bat: 3.5, Distance: 0, TempC_DS18B20: '10.00' }, BIN)
    expect(r.ok === false && r.issues).toEqual([{ path: 'decoded_payload.Distance', message: '0 mm is no echo' }])
  })
})

describe('room sensors', () => {
  it('Elsys ERS: temperature and humidity; CO2, light, motion and vdd have no field in our room type', () => {
    const r = elsysErs.decode(decodedOf('elsys-ers-co2'), {})
    expect(r).toEqual({ ok: true, readings: { temperature: 21.8, humidity: 70 } })
    expect(RoomReadings.safeParse((r as { readings: unknown }).readings).success).toBe(true)
  })
  it('Milesight AM103: battery percentage as well', () => {
    expect(milesightAm103.decode({ temperature: 19.2, humidity: 55.5, co2: 800, battery: 71 }, {})).toEqual({
      ok: true,
      readings: { temperature: 19.2, humidity: 55.5, batteryPct: 71 },
    })
  })
  it('skips an uplink with neither temperature nor humidity', () => {
    expect(elsysErs.decode({ motion: 3 }, {}).ok).toBe('skip')
  })
})

describe('the decoder list', () => {
  it('finds decoders by id only, not by inherited names', () => {
    expect(ttsDecoder('dragino-ldds75')).toBe(draginoLdds75)
    expect(ttsDecoder('constructor')).toBeUndefined()
    expect(ttsDecoder('__proto__')).toBeUndefined()
    expect(Object.keys(TTS_DECODERS).sort()).toEqual(['dragino-ldds75', 'elsys-ers', 'milesight-am103', 'milesight-em310-udl', 'native'])
  })
  it('passes a payload formatter written for us through as it is', () => {
    expect(nativeReadings.decode({ flowTemp: 60 }, {})).toEqual({ ok: true, readings: { flowTemp: 60 } })
  })
  it('never throws on hostile payloads', () => {
    const hostile = [{}, { distance: 1e308 }, { distance: -1 }, { Distance: '1e5' }, { temperature: null }, Object.create(null)]
    for (const d of Object.values(TTS_DECODERS)) for (const p of hostile) expect(() => d.decode(p, BIN)).not.toThrow()
  })
})
