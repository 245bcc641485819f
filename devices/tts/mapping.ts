import { z } from 'zod'
import { DeviceId } from '../ids.ts'
import { TTS_DECODER_IDS } from './decoders.ts'
import { DevEui, TtsId } from './uplink.ts'

/**
 * Which of our devices a TTS end device is, and how its `decoded_payload` is read. A mapping
 * matches by `dev_eui` (survives re-registering the device in TTS under another id) or by
 * application and TTS device id (for devices registered without an EUI, or where a council
 * prefers names). When both match an uplink, the dev_eui mapping wins.
 */
export const TtsMappingInput = z
  .strictObject({
    devEui: DevEui.optional(),
    applicationId: TtsId.optional(),
    ttsDeviceId: TtsId.optional(),
    deviceId: DeviceId.describe('our device the uplinks become readings of'),
    decoder: z.enum(TTS_DECODER_IDS),
    params: z.record(z.string(), z.unknown()).default({}).describe('decoder settings, e.g. {"depthMm": 1200} for a bin sensor'),
  })
  .refine((m) => (m.devEui ? !m.applicationId && !m.ttsDeviceId : Boolean(m.applicationId && m.ttsDeviceId)), {
    message: 'give either devEui, or applicationId and ttsDeviceId',
    path: ['devEui'],
  })
export type TtsMappingInput = z.input<typeof TtsMappingInput>

/** The one key a mapping is stored and looked up under. */
export const mappingKeyOf = (m: { devEui?: string | undefined; applicationId?: string | undefined; ttsDeviceId?: string | undefined }) =>
  m.devEui ? `eui:${m.devEui.toUpperCase()}` : `dev:${m.applicationId}:${m.ttsDeviceId}`

export const TtsMapping = z.object({
  key: z.string().describe('eui:<DEV_EUI> or dev:<application>:<device>'),
  deviceId: z.string(),
  decoder: z.string(),
  params: z.record(z.string(), z.unknown()),
  createdAt: z.string(),
  createdBy: z.string(),
})
export type TtsMapping = z.infer<typeof TtsMapping>

/** A TTS application whose webhook may post uplinks; its secret is never shown again after it is made. */
export const TtsApplication = z.object({
  id: z.string(),
  createdAt: z.string(),
  createdBy: z.string(),
  lastUsedAt: z.string().nullable(),
})
export type TtsApplication = z.infer<typeof TtsApplication>
