import { z } from 'zod'

/**
 * A The Things Stack v3 uplink message as its webhooks, MQTT and Storage Integration send it
 * (standards.md §6; `integrations/data-formats`). Only what we read is described; every other
 * field is allowed and dropped. The JSON comes from protobuf, so a zero or empty field may be
 * absent: a missing `f_cnt` is 0. Sizes are bounded so one document can never be large.
 */

/** TTS identifiers: 2–36 lower-case letters, digits and single hyphens (lorawan-stack `ID` pattern). */
export const TtsId = z
  .string()
  .min(2)
  .max(36)
  .regex(/^[a-z0-9](?:-?[a-z0-9])*$/, 'a TTS id: lower-case letters, digits and single hyphens, 2-36 characters')

/** A 64-bit EUI as TTS writes it: 16 hex digits (upper case in TTS; any case accepted, kept upper). */
export const DevEui = z
  .string()
  .regex(/^[0-9A-Fa-f]{16}$/, '16 hex digits')
  .transform((s) => s.toUpperCase())

const MAX_DECODED_KEYS = 64

/** The payload formatter's output: a JSON object, a few dozen fields at most. */
export const DecodedPayload = z
  .record(z.string().max(64), z.unknown())
  .refine((o) => Object.keys(o).length <= MAX_DECODED_KEYS, `at most ${MAX_DECODED_KEYS} fields`)

const RxMetadata = z.object({
  gateway_ids: z.object({ gateway_id: z.string().max(64).optional(), eui: z.string().max(16).optional() }).optional(),
  time: z.string().max(40).optional(),
  rssi: z.number().optional(),
  snr: z.number().optional(),
})

export const TtsUplinkMessage = z.object({
  session_key_id: z.string().max(64).optional(),
  f_port: z.number().int().min(0).max(255).optional(),
  f_cnt: z.number().int().min(0).max(0xffff_ffff).default(0),
  /** The raw application payload, base64 (≤ 242 bytes on LoRaWAN, so a few hundred characters). */
  frm_payload: z.string().max(1024).optional(),
  decoded_payload: DecodedPayload.optional(),
  /** Warnings and errors of the payload formatter, when it reported any. */
  decoded_payload_warnings: z.array(z.string().max(500)).max(20).optional(),
  rx_metadata: z.array(RxMetadata).max(64).optional(),
  /** Network Server time; the top-level received_at (Application Server) is the one we use. */
  received_at: z.iso.datetime({ offset: true }).optional(),
})
export type TtsUplinkMessage = z.infer<typeof TtsUplinkMessage>

export const TtsEndDeviceIds = z.object({
  device_id: TtsId,
  application_ids: z.object({ application_id: TtsId }),
  dev_eui: DevEui.optional(),
  join_eui: z.string().max(16).optional(),
  dev_addr: z.string().max(8).optional(),
})
export type TtsEndDeviceIds = z.infer<typeof TtsEndDeviceIds>

/**
 * Any application-up document (uplink, join accept, downlink events…): the identifiers and time
 * every one carries, and the uplink when it is one. A webhook without per-type paths sends all
 * types to one URL, so the endpoint tells them apart by which field is present.
 */
export const TtsApplicationUp = z.object({
  end_device_ids: TtsEndDeviceIds,
  correlation_ids: z.array(z.string().max(200)).max(64).optional(),
  /** Application Server time, RFC 3339 with up to nanoseconds: our observation time. */
  received_at: z.iso.datetime({ offset: true }),
  uplink_message: TtsUplinkMessage.optional(),
  simulated: z.boolean().optional(),
})
export type TtsApplicationUp = z.infer<typeof TtsApplicationUp>

/** What a quarantine entry and a log line say about an uplink, so it can be found in TTS's console. */
export function uplinkLabel(up: { applicationId: string; deviceId: string; devEui?: string | undefined; fCnt?: number }): string {
  const parts = [`application ${up.applicationId}`, `device ${up.deviceId}`]
  if (up.devEui) parts.push(`dev_eui ${up.devEui}`)
  if (up.fCnt !== undefined) parts.push(`f_cnt ${up.fCnt}`)
  return parts.join(', ')
}

/** The quarantine topic of a TTS uplink: in the place an MQTT message's topic goes. */
export const ttsTopic = (applicationId: string, deviceId: string) => `tts/${applicationId}/${deviceId}/up`

/** Epoch ms of an RFC 3339 time with up to nanoseconds (Date reads at most milliseconds; the rest is dropped). */
export function rfc3339Ms(s: string): number {
  const m = /^(.*T\d{2}:\d{2}:\d{2})(\.\d+)?(Z|[+-]\d{2}:\d{2})$/i.exec(s)
  if (!m) return Number.NaN
  const frac = m[2] ? m[2].slice(0, 4).padEnd(4, '0') : ''
  return Date.parse(`${m[1]}${frac}${m[3]}`)
}
