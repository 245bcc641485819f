import { describe, expect, it } from 'vitest'
import { parseConfig } from '../service/config.ts'

describe('service config', () => {
  it('has safe defaults and no default secret', () => {
    const r = parseConfig({})
    expect(r.ok && r.config).toMatchObject({ HTTP_HOST: '127.0.0.1', MQTT_MAX_PACKET_BYTES: 65536 })
    expect(r.ok && r.config.ADMIN_TOKEN).toBeUndefined()
  })

  it('reports every bad variable at once', () => {
    const r = parseConfig({ HTTP_PORT: 'eighty', INFLUX_URL: 'not a url', ADMIN_TOKEN: 'short', LOG_LEVEL: 'loud' })
    expect(r.ok).toBe(false)
    if (!r.ok)
      expect(r.errors.map((e) => e.split(':')[0])).toEqual(expect.arrayContaining(['HTTP_PORT', 'INFLUX_URL', 'ADMIN_TOKEN', 'LOG_LEVEL']))
  })
})
