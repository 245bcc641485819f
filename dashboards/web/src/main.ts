import { io, type Socket } from 'socket.io-client'
import type { Alert, ClientToServerEvents, DeviceState, ServerToClientEvents } from '#devices'
import { createApi, TooMany, Unauthorised } from './api.ts'
import { renderAlert, renderDeviceRow } from './render.ts'

const $ = <T extends HTMLElement>(id: string) => document.getElementById(id) as T
const KEY = 'smartplace.token'
const tooManyMessage = (s: number) => `Too many failed sign-ins. Try again in ${s} seconds.`

function showLogin(message = '') {
  sessionStorage.removeItem(KEY)
  $('app').hidden = true
  $('login').hidden = false
  $('login-error').textContent = message
}

async function start(token: string) {
  const api = createApi(token)
  let devices: Awaited<ReturnType<typeof api.devices>>
  let alerts: Alert[]
  try {
    ;[devices, alerts] = await Promise.all([api.devices(), api.openAlerts()])
  } catch (e) {
    if (e instanceof TooMany) return showLogin(tooManyMessage(e.retryAfterS))
    return showLogin(e instanceof Unauthorised ? 'That token was not accepted.' : String(e))
  }
  sessionStorage.setItem(KEY, token)
  $('login').hidden = true
  $('app').hidden = false

  const rows = new Map<string, HTMLTableRowElement>()
  const tbody = $('devices')
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

  const list = $('alerts')
  const items = new Map<string, HTMLLIElement>()
  const ack = (id: string) => void api.ack(id).catch((e) => console.error(e))
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

  const socket: Socket<ServerToClientEvents, ClientToServerEvents> = io({ auth: { token } })
  socket.on('connect', () => {
    $('conn').textContent = 'live'
  })
  socket.on('disconnect', () => {
    $('conn').textContent = 'reconnecting…'
  })
  socket.on('connect_error', (e) => {
    if (e.message === 'UNAUTHENTICATED') showLogin('Your session is no longer valid.')
    // The handshake is braked like the API; the message says when to come back rather than blaming the token.
    if (e.message === 'AUTH_THROTTLED') showLogin(tooManyMessage(Number((e as { data?: { retryAfterS?: number } }).data?.retryAfterS) || 1))
  })
  socket.on('alert:raised', upsertAlert)
  socket.on('alert:acknowledged', upsertAlert)
  socket.on('alert:cleared', upsertAlert)
  socket.on('alert:changed', (c) => upsertAlert(c.alert))
  socket.on('device:state', upsertDevice)
}

/** InfluxDB and log state from /ready: readings wait in the log while InfluxDB is away and land after. */
async function showHealth() {
  try {
    const r = (await (await fetch('/ready')).json()) as { status: string; checks: Record<string, { ok: boolean; detail?: string }> }
    const influx = r.checks.influxdb
    $('health').textContent =
      `InfluxDB ${influx?.ok ? 'ok' : `degraded (${influx?.detail ?? 'unknown'})`} · ${r.checks['reader:influxdb']?.detail ?? '?'}` +
      (r.checks.log?.ok === false ? ` · ${r.checks.log.detail}` : '')
    $('health').className = r.status === 'ready' ? 'muted' : 'error'
  } catch {
    $('health').textContent = 'service unreachable'
  }
}
void showHealth()
setInterval(showHealth, 10_000)

$('login').addEventListener('submit', (e) => {
  e.preventDefault()
  void start(($('token') as HTMLInputElement).value)
})

const saved = sessionStorage.getItem(KEY)
if (saved) void start(saved)
else showLogin()
