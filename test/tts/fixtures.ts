import { readFileSync } from 'node:fs'
import { join } from 'node:path'

const DIR = join(import.meta.dirname, '..', 'fixtures', 'tts')

export const FIXTURES = [
  'milesight-em400-mud',
  'milesight-em310-udl-tilt',
  'dragino-ldds75',
  'elsys-ers-co2',
  'milesight-device-info',
  'join-accept',
] as const
export type FixtureName = (typeof FIXTURES)[number]

// biome-ignore lint/suspicious/noExplicitAny: fixtures are JSON documents that tests reshape freely
export type Doc = Record<string, any>

/** A recorded uplink document, parsed afresh (tests may change it). */
export const fixture = (name: FixtureName): Doc => JSON.parse(readFileSync(join(DIR, `${name}.json`), 'utf8')) as Doc

/** The document as if TTS received it `agoMs` before now (readings must fall in the accepted window), with other fields changed. */
export function recent(doc: Doc, agoMs: number, change: { fCnt?: number; decoded?: Doc; now?: number } = {}): Doc {
  const d = structuredClone(doc)
  const at = new Date((change.now ?? Date.now()) - agoMs).toISOString().replace('Z', '123456Z')
  d.received_at = at
  if (d.uplink_message) {
    d.uplink_message.received_at = at
    if (change.fCnt !== undefined) d.uplink_message.f_cnt = change.fCnt
    if (change.decoded) d.uplink_message.decoded_payload = change.decoded
  }
  return d
}
