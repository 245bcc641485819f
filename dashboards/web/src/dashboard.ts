import type { Alert, DeviceState } from '#devices'
import { type Api, ApiError, type Credentials } from './api.ts'
import { connectLive } from './live.ts'
import { renderAlert, renderDeviceRow } from './render.ts'

const $ = <T extends HTMLElement>(id: string) => document.getElementById(id) as T

export interface Dashboard {
  /** Disconnects the live feed and empties the lists, so whoever signs in next starts clean. */
  stop(): void
}

/** Why the dashboard can no longer carry on (the caller shows the right view). */
export type Ended = { reason: 'signed-out' } | { reason: 'throttled'; retryAfterS: number } | { reason: 'password-change' }

/**
 * Loads devices and open alerts, then keeps them live over Socket.IO. With the session
 * cookie the handshake reads the cookie (same origin); with a token it sends the token.
 */
export async function startDashboard(api: Api, credentials: Credentials, onEnded: (e: Ended) => void): Promise<Dashboard> {
  const [devices, alerts] = await Promise.all([api.devices(), api.openAlerts()])

  const tbody = $('devices')
  const list = $('alerts')
  tbody.replaceChildren()
  list.replaceChildren()

  const rows = new Map<string, HTMLTableRowElement>()
  const upsertDevice = (s: DeviceState) => {
    let row = rows.get(s.deviceId)
    if (!row) {
      row = document.createElement('tr')
      row.dataset.deviceId = s.deviceId
      rows.set(s.deviceId, row)
      tbody.append(row)
    }
    renderDeviceRow(row, s)
  }
  for (const d of devices) upsertDevice(d.state)

  const items = new Map<string, HTMLLIElement>()
  const ack = (id: string) =>
    void api.ack(id).catch((e: unknown) => {
      if (e instanceof ApiError && e.status === 401) return end({ reason: 'signed-out' })
      if (e instanceof ApiError && e.code === 'PASSWORD_CHANGE_REQUIRED') return end({ reason: 'password-change' })
      console.error(e)
    })
  const upsertAlert = (a: Alert) => {
    let li = items.get(a.id)
    if (!li) {
      li = document.createElement('li')
      items.set(a.id, li)
      list.prepend(li)
    }
    renderAlert(li, a, ack)
  }
  for (const a of alerts.reverse()) upsertAlert(a)

  let stopped = false
  const end = (e: Ended) => {
    if (stopped) return
    stop()
    onEnded(e)
  }
  const live = connectLive(credentials, { onEnded: end })
  const { socket } = live
  const stop = () => {
    stopped = true
    live.stop()
    tbody.replaceChildren()
    list.replaceChildren()
  }
  socket.on('alert:raised', upsertAlert)
  socket.on('alert:acknowledged', upsertAlert)
  socket.on('alert:cleared', upsertAlert)
  socket.on('alert:changed', (c) => upsertAlert(c.alert))
  socket.on('device:state', upsertDevice)
  return { stop }
}
