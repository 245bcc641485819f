import { randomBytes } from 'node:crypto'
import mqtt, { type MqttClient } from 'mqtt'
import { apiProvisioner, fleetSpecs, provisionFleet } from '../../simulators/provision.ts'
import { onCleanup } from './cleanup.ts'
import { startPeer } from './peer.ts'
import { type ServiceProcess, startServiceProcess } from './service-process.ts'

/** One path under measurement, started fresh for each of its rounds. */
export interface RunningPath {
  clients: MqttClient[]
  topics: string[]
  ids: string[]
  /** Processes whose CPU time is this path's cost. */
  pids: number[]
  /** The service's HTTP API and admin token (Socket.IO alerts, provisioning); null for the peer, which has neither. */
  api: { apiUrl: string; token: string } | null
  /** The service process, for phases that look at it directly (scale). */
  service: ServiceProcess | null
  close(): Promise<void>
}

export interface PathDef {
  /** Short key used in bench-results.json and as the database prefix. */
  name: string
  label: string
  start(influxUrl: string, db: string, o: { devices: number; env?: Record<string, string> }): Promise<RunningPath>
}

/** Ours: the service of the tree at `root` (this checkout or an exported older commit), devices with credentials. */
export function servicePath(name: string, label: string, root: string): PathDef {
  return {
    name,
    label,
    async start(influxUrl, db, o) {
      const token = randomBytes(32).toString('base64url')
      const svc = await startServiceProcess({ root, influxUrl, db, token, ...(o.env ? { env: o.env } : {}) })
      try {
        const list = o.devices
          ? await provisionFleet(fleetSpecs({ bin: o.devices, boiler: 0, meter: 0 }, 1, 'bench'), apiProvisioner(svc.url, token), null)
          : []
        const clients = await Promise.all(
          list.map((d) => mqtt.connectAsync(svc.mqttUrl, { clientId: d.id, username: d.id, password: d.secret, reconnectPeriod: 0 })),
        )
        return {
          clients,
          topics: list.map((d) => `sp/v1/${d.site}/bin/${d.id}/telemetry`),
          ids: list.map((d) => d.id),
          pids: [svc.pid],
          api: { apiUrl: svc.url, token },
          service: svc,
          async close() {
            await Promise.all(clients.map((c) => c.endAsync()))
            await svc.stop()
          },
        }
      } catch (e) {
        await svc.stop()
        throw e
      }
    },
  }
}

/** The peer: Debian's Mosquitto plus a minimal subscriber writing to the same influxd, no validation. */
export function peerPath(): PathDef {
  return {
    name: 'peer',
    label: 'Mosquitto + subscriber',
    async start(influxUrl, db, o) {
      const peer = await startPeer(influxUrl, db)
      const dropCleanup = onCleanup(() => peer.stop())
      try {
        const ids = Array.from({ length: o.devices }, (_, i) => `peer-${i}`)
        const clients = await Promise.all(ids.map((id) => mqtt.connectAsync(peer.mqttUrl, { clientId: `pub-${id}`, reconnectPeriod: 0 })))
        return {
          clients,
          topics: ids.map((id) => `sp/v1/peer/bin/${id}/telemetry`),
          ids,
          pids: peer.pids,
          api: null,
          service: null,
          async close() {
            await Promise.all(clients.map((c) => c.endAsync()))
            await peer.stop()
            dropCleanup()
          },
        }
      } catch (e) {
        await peer.stop()
        dropCleanup()
        throw e
      }
    },
  }
}
