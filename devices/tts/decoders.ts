import { z } from 'zod'
import type { Issue } from '../reading.ts'
import {
  BinGeometry,
  type DecodeResult,
  defineDecoder,
  fail,
  field,
  fillFromDistance,
  type TtsDecoder,
  type TtsReadingValue,
} from './decode.ts'

/**
 * Decoders from The Things Stack's `decoded_payload` (the device repository's payload
 * formatters; field names in standards.md §6) to our device types' readings. They only rename
 * and convert: ingest validates the result with the type's schema, exactly as for MQTT, so a
 * field a sensor lacks is left out rather than invented, and the reading is quarantined when
 * our type needs it.
 */

const distanceIssue = (d: number): Issue => ({ path: 'decoded_payload.distance', message: `${d} mm is no echo` })

const done = (readings: Record<string, TtsReadingValue | undefined>, issues: Issue[], what: string): DecodeResult => {
  if (issues.length) return fail(`decoded_payload of ${what} has fields of the wrong kind`, issues)
  const out: Record<string, TtsReadingValue> = {}
  for (const [k, v] of Object.entries(readings)) if (v !== undefined) out[k] = v
  return { ok: true, readings: out }
}

/**
 * Milesight EM310-UDL and EM400-MUD (`vendor/milesight-iot/em310-udl.js`, em400-mud): `battery`
 * (%), `distance` (mm), `position` (`normal` / `tilt`: our knocked-over signal), and on the
 * EM400-MUD `temperature` (°C). The EM310-UDL has no temperature sensor: its readings leave
 * temperature out (bin-fire waits for a temperature that never comes) rather than invent one.
 */
export const milesightBin = defineDecoder({
  id: 'milesight-em310-udl',
  title: 'Milesight EM310-UDL / EM400-MUD bin level sensor',
  deviceType: 'bin',
  params: BinGeometry,
  decode(p, g) {
    if (!['distance', 'battery', 'position', 'temperature'].some((k) => Object.hasOwn(p, k))) {
      return { ok: 'skip', reason: 'no reading in this uplink (a device information or alarm-release frame)' }
    }
    const issues: Issue[] = []
    const distance = field(p, 'distance', issues)
    const fill = distance === undefined ? undefined : fillFromDistance(distance, g)
    if (fill === null) issues.push(distanceIssue(distance!))
    const position = p.position
    if (position !== undefined && position !== 'normal' && position !== 'tilt')
      issues.push({ path: 'decoded_payload.position', message: 'expected "normal" or "tilt"' })
    return done(
      {
        fillingLevel: fill ?? undefined,
        temperature: field(p, 'temperature', issues),
        batteryPct: field(p, 'battery', issues),
        tilted: position === 'tilt' ? true : position === 'normal' ? false : undefined,
      },
      issues,
      'a Milesight bin sensor',
    )
  },
})

/** Ours: an LDDS75's ER26500 cell reads 3.6 V new and counts as empty at 3.0 V; linear between. */
export const batteryPctFromVolts = (v: number) => Math.round(Math.min(100, Math.max(0, ((v - 3.0) / 0.6) * 100)))

/**
 * Dragino LDDS75 with Dragino's own decoder (`LDDS75_Decoder_V1.1.4.js`): `Bat` (V), `Distance`
 * (mm), `TempC_DS18B20` (°C as a string, from the optional probe). Not the TTN repository's
 * `vendor/dragino/ldds75.js`, whose `distance` is the battery bytes. The LDDS75 has no tilt
 * sensor, so `tilted` is left out: "upright" would be made up, and would claim a knocked-over bin
 * is standing.
 */
export const draginoLdds75 = defineDecoder({
  id: 'dragino-ldds75',
  title: 'Dragino LDDS75 distance sensor (Dragino decoder)',
  deviceType: 'bin',
  params: BinGeometry,
  decode(p, g) {
    if (!Object.hasOwn(p, 'Distance') && !Object.hasOwn(p, 'Bat')) {
      return { ok: 'skip', reason: 'no reading in this uplink (no Distance or Bat)' }
    }
    const issues: Issue[] = []
    const distance = field(p, 'Distance', issues)
    const fill = distance === undefined ? undefined : fillFromDistance(distance, g)
    if (fill === null) issues.push({ ...distanceIssue(distance!), path: 'decoded_payload.Distance' })
    const volts = field(p, 'Bat', issues)
    return done(
      {
        fillingLevel: fill ?? undefined,
        temperature: field(p, 'TempC_DS18B20', issues),
        batteryPct: volts === undefined ? undefined : batteryPctFromVolts(volts),
      },
      issues,
      'a Dragino LDDS75',
    )
  },
})

const roomOnly = (what: string) => ({ ok: 'skip' as const, reason: `no temperature or humidity in this ${what} uplink` })

/**
 * Elsys ERS family (`vendor/elsys/elsys.js`): `temperature` (°C), `humidity` (%). Our room type
 * has no CO₂, light, motion or occupancy fields, so those are dropped; `vdd` (mV) is not turned
 * into a battery percentage (Elsys publishes no curve for it).
 */
export const elsysErs = defineDecoder({
  id: 'elsys-ers',
  title: 'Elsys ERS room sensor',
  deviceType: 'room',
  params: z.strictObject({}),
  decode(p) {
    if (!Object.hasOwn(p, 'temperature') && !Object.hasOwn(p, 'humidity')) return roomOnly('Elsys')
    const issues: Issue[] = []
    return done({ temperature: field(p, 'temperature', issues), humidity: field(p, 'humidity', issues) }, issues, 'an Elsys ERS')
  },
})

/** Milesight AM103-style room sensor (`am103l.js` channel scheme): `temperature`, `humidity`, `battery` (%); `co2` dropped. */
export const milesightAm103 = defineDecoder({
  id: 'milesight-am103',
  title: 'Milesight AM103 room sensor',
  deviceType: 'room',
  params: z.strictObject({}),
  decode(p) {
    if (!Object.hasOwn(p, 'temperature') && !Object.hasOwn(p, 'humidity')) return roomOnly('Milesight')
    const issues: Issue[] = []
    return done(
      { temperature: field(p, 'temperature', issues), humidity: field(p, 'humidity', issues), batteryPct: field(p, 'battery', issues) },
      issues,
      'a Milesight AM103',
    )
  },
})

/** A payload formatter written for us: `decoded_payload` is already the readings of the mapped device's type. */
export const nativeReadings = defineDecoder({
  id: 'native',
  title: 'Payload formatter that outputs our readings as they are',
  deviceType: null,
  params: z.strictObject({}),
  decode: (p) => ({ ok: true, readings: p as Record<string, TtsReadingValue> }),
})

export const TTS_DECODERS: Readonly<Record<string, TtsDecoder>> = Object.freeze(
  Object.fromEntries([milesightBin, draginoLdds75, elsysErs, milesightAm103, nativeReadings].map((d) => [d.id, d])),
)

export const TTS_DECODER_IDS = Object.keys(TTS_DECODERS) as [string, ...string[]]

export function ttsDecoder(id: string): TtsDecoder | undefined {
  return Object.hasOwn(TTS_DECODERS, id) ? TTS_DECODERS[id] : undefined
}
