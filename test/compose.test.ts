import { readFileSync } from 'node:fs'
import { describe, expect, it } from 'vitest'
import { parse } from 'yaml'

interface Compose {
  services: Record<string, { image?: string; environment?: Record<string, string>; healthcheck?: unknown }>
}

describe('docker-compose.yml', () => {
  const compose = parse(readFileSync('docker-compose.yml', 'utf8')) as Compose

  it('pins every image to a version, never latest', () => {
    for (const [name, s] of Object.entries(compose.services)) {
      expect(s.image, name).toMatch(/^[a-z0-9./-]+:\d+\.\d+(\.\d+)?[a-z0-9.-]*$/)
      expect(s.image, name).not.toMatch(/:latest$/)
    }
    expect(compose.services.influxdb?.image).toMatch(/^influxdb:2\.9/)
  })

  it('requires every secret from the environment, with no default', () => {
    const env = JSON.stringify(compose.services)
    for (const v of ['SP_ADMIN_TOKEN', 'INFLUXDB_ADMIN_PASSWORD', 'INFLUXDB_ADMIN_TOKEN']) expect(env).toContain(`\${${v}:?`)
    expect(compose.services.smartplace?.environment).toMatchObject({ INFLUX_URL: 'http://influxdb:8086', INFLUX_DB: 'telemetry' })
    expect(env).not.toMatch(/PASSWORD: [^$]/)
  })

  it('has a health check on every service', () => {
    for (const [name, s] of Object.entries(compose.services)) expect(s.healthcheck, name).toBeDefined()
  })
})
