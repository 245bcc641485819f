import { io, type Socket } from 'socket.io-client'
import type { Alert, ClientToServerEvents, DeviceState, ServerToClientEvents } from '#devices'
import { type Api, ApiError, type Credentials } from './api.ts'
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

  const socket: Socket<ServerToClientEvents, ClientToServerEvents> =
    credentials.kind === 'bearer' ? io({ auth: { token: credentials.token } }) : io()
  let stopped = false
  const stop = () => {
    stopped = true
    socket.disconnect()
    $('conn').textContent = ''
    tbody.replaceChildren()
    list.replaceChildren()
  }
  const end = (e: Ended) => {
    if (stopped) return
    stop()
    onEnded(e)
  }
  socket.on('connect', () => {
    $('conn').textContent = 'live'
  })
  socket.on('disconnect', () => {
    if (!stopped) $('conn').textContent = 'reconnecting…'
  })
  socket.on('connect_error', (e) => {
    if (e.message === 'UNAUTHENTICATED') end({ reason: 'signed-out' })
    // The handshake is braked like the API; the message says when to come back rather than blaming the credentials.
    if (e.message === 'AUTH_THROTTLED')
      end({ reason: 'throttled', retryAfterS: Number((e as { data?: { retryAfterS?: number } }).data?.retryAfterS) || 1 })
  })
  socket.on('alert:raised', upsertAlert)
  socket.on('alert:acknowledged', upsertAlert)
  socket.on('alert:cleared', upsertAlert)
  socket.on('alert:changed', (c) => upsertAlert(c.alert))
  socket.on('device:state', upsertDevice)
  return { stop }
}
