import mqtt from 'mqtt'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { startMosquitto } from '../bench/peer.ts'
import { runNode } from '../helpers/run-node.ts'

describe('the simulator against another MQTT 3.1.1 broker (Mosquitto)', () => {
  let broker: Awaited<ReturnType<typeof startMosquitto>>
  beforeAll(async () => {
    broker = await startMosquitto()
  })
  afterAll(() => broker?.stop())

  it('npm run sim -- --url … --broker-only publishes every type, as native JSON or SenML', { timeout: 60_000 }, async () => {
    const seen = { json: new Set<string>(), senml: new Set<string>() }
    const sub = await mqtt.connectAsync(broker.mqttUrl, { reconnectPeriod: 0 })
    sub.on('message', (topic, payload) => {
      const type = topic.split('/')[3]!
      seen[payload[0] === 0x5b ? 'senml' : 'json'].add(type)
    })
    await sub.subscribeAsync('sp/v1/+/+/+/telemetry', { qos: 1 })
    for (const format of ['json', 'senml']) {
      const { code, out } = await runNode([
        'simulators/main.ts',
        ...['--url', broker.mqttUrl, '--broker-only', '--bins', '3', '--boilers', '3', '--meters', '3', '--rooms', '3', '--weather', '3'],
        ...['--speed', '3600', '--duration', '3', '--format', format, '--prefix', format],
      ])
      expect(code, out).toBe(0)
      // Not a terminal: progress comes as plain lines.
      expect(out).toMatch(/^devices 15\/15 connected, sent \d+, acked \d+/m)
      expect(out).not.toContain('\r')
    }
    await sub.endAsync()
    expect([...seen.json].sort()).toEqual(['bin', 'boiler', 'meter', 'room', 'weather'])
    expect([...seen.senml].sort()).toEqual(['bin', 'boiler', 'meter', 'room', 'weather'])
  })
})
