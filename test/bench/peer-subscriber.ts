import mqtt from 'mqtt'

// The path a council would assemble from Mosquitto + Telegraf: subscribe, turn JSON
// into line protocol without validation, batch it to InfluxDB. Run as its own process.
const [mqttUrl, influxUrl, db] = process.argv.slice(2) as [string, string, string]
const client = await mqtt.connectAsync(mqttUrl, { clientId: `peer-sub-${process.pid}`, clean: true, reconnectPeriod: 1000 })
let lines: string[] = []
let inFlight = 0

const flush = async () => {
  if (lines.length === 0 || inFlight >= 2) return
  const batch = lines
  lines = []
  inFlight++
  try {
    for (;;) {
      const res = await fetch(`${influxUrl}/write?db=${db}&precision=ms`, { method: 'POST', body: batch.join('\n') }).catch(() => null)
      if (res && (res.status === 204 || res.status === 400)) break
      await new Promise((r) => setTimeout(r, 200))
    }
  } finally {
    inFlight--
  }
}

client.on('message', (topic, payload) => {
  const [, , site, type, id] = topic.split('/')
  try {
    const m = JSON.parse(payload.toString()) as { ts: number; readings: Record<string, number | boolean> }
    const fields = Object.entries(m.readings)
      .map(([k, v]) => `${k}=${typeof v === 'boolean' ? (v ? 1 : 0) : v}`)
      .join(',')
    lines.push(`${type},device_id=${id},site=${site} ${fields} ${m.ts}`)
    if (lines.length >= 5000) void flush()
  } catch {}
})
setInterval(() => void flush(), 100)
await client.subscribeAsync('sp/v1/+/+/+/telemetry', { qos: 1 })
process.stdout.write('peer subscriber ready\n')
