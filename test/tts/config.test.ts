import { describe, expect, it } from 'vitest'
import { parseConfig } from '../../service/config.ts'

describe('TTS MQTT settings', () => {
  const all = {
    TTS_MQTT_URL: 'mqtts://eu1.cloud.thethings.network:8883',
    TTS_MQTT_USERNAME: 'croydon-waste@ttn',
    TTS_MQTT_API_KEY: 'NNSXS.K',
  }
  it('are all three or none; there is no default key', () => {
    expect(parseConfig({}).ok).toBe(true)
    const none = parseConfig({})
    expect(none.ok && none.config.TTS_MQTT_API_KEY).toBeUndefined()
    expect(parseConfig(all).ok).toBe(true)
    const partial = parseConfig({ TTS_MQTT_URL: all.TTS_MQTT_URL, TTS_MQTT_USERNAME: all.TTS_MQTT_USERNAME })
    expect(partial.ok).toBe(false)
    expect(!partial.ok && partial.errors.join('\n')).toMatch(/^TTS_MQTT_URL: .*TTS_MQTT_API_KEY/m)
  })
  it('refuse an address that is not MQTT and a username that is not {application}@{tenant}', () => {
    expect(parseConfig({ ...all, TTS_MQTT_URL: 'https://eu1.cloud.thethings.network' }).ok).toBe(false)
    expect(parseConfig({ ...all, TTS_MQTT_USERNAME: 'Croydon Waste' }).ok).toBe(false)
  })
})
