import { Counter, type Registry } from 'prom-client'

export const TTS_OUTCOMES = ['accepted', 'suspicious', 'quarantined', 'duplicate', 'skipped', 'ignored', 'forbidden', 'refused'] as const
export type TtsOutcome = (typeof TTS_OUTCOMES)[number]

export function ttsMetrics(register: Registry) {
  return {
    uplinks: new Counter({
      name: 'sp_tts_uplinks_total',
      help: 'The Things Stack documents by outcome: accepted, suspicious, quarantined, duplicate (a repeated f_cnt), skipped (no reading in it), ignored (not an uplink), forbidden (another application), refused (the log could not take it)',
      labelNames: ['outcome'] as const,
      registers: [register],
    }),
  }
}
export type TtsMetrics = ReturnType<typeof ttsMetrics>
