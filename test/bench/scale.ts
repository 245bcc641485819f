import { createFleet } from '../../simulators/fleet.ts'
import { apiProvisioner, fleetSpecs, provisionFleet } from '../../simulators/provision.ts'
import { cpuSeconds, rssMiB } from './proc.ts'

/** N devices, each its own connection and credentials, reporting every `everyS` real seconds. */
export async function scaleRun(
  svc: { url: string; mqttUrl: string; pid: number },
  token: string,
  n: number,
  everyS: number,
  seconds: number,
) {
  const specs = fleetSpecs({ bin: Math.ceil(n / 2), boiler: Math.floor(n / 2), meter: 0 }, 5, 'scale')
  const provision = apiProvisioner(svc.url, token)
  // Provisioning is admin work, not the measurement: 16 requests at a time.
  const queue = [...specs]
  const secrets = new Map<string, string>()
  await Promise.all(
    Array.from({ length: 16 }, async () => {
      for (let s = queue.shift(); s; s = queue.shift()) {
        const r = await provision(s)
        if (r !== 'exists') secrets.set(s.id, r.secret)
      }
    }),
  )
  const devices = await provisionFleet(specs, async (s) => ({ secret: secrets.get(s.id)! }), null)
  const t0 = Date.now()
  // 1,200 simulated seconds per report for every type; the speed makes that `everyS` real seconds.
  const fleet = createFleet({ url: svc.mqttUrl, devices, speed: 1200 / everyS, seed: 5, intervalS: 1200, connectConcurrency: 100 })
  await fleet.start()
  const connectS = (Date.now() - t0) / 1000
  const connected = fleet.stats.connected
  const pid = svc.pid
  const cpu0 = cpuSeconds(pid)
  const acked0 = fleet.stats.acked
  const w0 = Date.now()
  await new Promise((r) => setTimeout(r, seconds * 1000))
  const window = (Date.now() - w0) / 1000
  const result = {
    devices: n,
    connected,
    connectSeconds: connectS,
    readingsPerSecond: (fleet.stats.acked - acked0) / window,
    cpuPercent: ((cpuSeconds(pid) - cpu0) / window) * 100,
    rssMiB: rssMiB(pid),
    errors: fleet.stats.errors,
    generatorRssMiB: process.memoryUsage().rss / 1024 / 1024,
  }
  await fleet.close()
  return result
}
