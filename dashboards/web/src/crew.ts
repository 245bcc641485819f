import { io, type Socket } from 'socket.io-client'
import type { Alert, ClientToServerEvents, CrewToday, DeviceState, ServerToClientEvents } from '#devices'
import { type Api, ApiError, type Credentials } from './api.ts'
import { type CrewRow, createRow, renderFill, renderRow } from './crew-list.ts'
import { createCrewMap } from './crew-map.ts'
import { when } from './crew-words.ts'
import type { Dashboard, Ended } from './dashboard.ts'

const $ = <T extends HTMLElement>(id: string) => document.getElementById(id) as T

/** Alert events come in bursts (a round of readings); one fetch answers a burst. */
const REFETCH_AFTER_MS = 400

const UNREACHABLE = 'no connection to the service'

/**
 * The crew's phone view: a map of their bins and today's list, most urgent first, with one
 * tap to mark a bin collected. Live over Socket.IO: readings move the fill, alerts fetch the
 * list again. When the connection drops, the last data stays on screen and says how old it is.
 */
export async function startCrew(api: Api, credentials: Credentials, onEnded: (e: Ended) => void): Promise<Dashboard> {
  const first = await api.crewToday()

  const list = $('crew-list')
  const banner = $('crew-offline')
  const rows = new Map<string, CrewRow>()
  /** When what is on screen was last known to be current. */
  let dataAt = Date.now()
  let stopped = false
  let offline = false

  const say = (message: string) => {
    const m = $('crew-message')
    m.textContent = message
    m.className = message ? 'error' : ''
  }

  const pick = (deviceId: string) => {
    const row = rows.get(deviceId)
    if (!row) return
    row.li.scrollIntoView({ block: 'center' })
    ;(row.li.contains(row.button) ? row.button : row.status).focus()
  }
  const map = createCrewMap($('crew-map'), first.mapTileUrl, pick)

  const show = (today: CrewToday) => {
    dataAt = Date.now()
    const focused = list.contains(document.activeElement) ? (document.activeElement as HTMLElement) : null
    const order: HTMLLIElement[] = []
    const listed = new Set<string>()
    for (const b of today.bins) {
      listed.add(b.id)
      let row = rows.get(b.id)
      if (row) renderRow(row, b)
      else {
        row = createRow(b, collect)
        rows.set(b.id, row)
      }
      order.push(row.li)
    }
    for (const id of rows.keys()) if (!listed.has(id)) rows.delete(id)
    list.replaceChildren(...order)
    // Reordering moves rows out and back, which drops focus; a crew mid-tap keeps their place.
    if (focused && list.contains(focused)) focused.focus()
    const shown = today.bins.length
    $('crew-summary').textContent =
      shown === 0
        ? 'No bins in your areas.'
        : `${shown} ${shown === 1 ? 'bin' : 'bins'}${today.total > shown ? `, the most urgent of ${today.total}` : ''}. Most urgent first.`
    map.show(today.bins)
  }

  const end = (e: Ended) => {
    if (stopped) return
    stop()
    onEnded(e)
  }
  /** True when the failure ended the view (signed out, or a password to change first). */
  const ended = (e: unknown) => {
    if (e instanceof ApiError && e.status === 401) end({ reason: 'signed-out' })
    else if (e instanceof ApiError && e.code === 'PASSWORD_CHANGE_REQUIRED') end({ reason: 'password-change' })
    else return false
    return true
  }

  let fetching: Promise<void> | null = null
  let again = false
  /** Fetches the list again; calls during a fetch make one more afterwards, not one each. */
  const refetch = (): Promise<void> => {
    if (fetching) {
      again = true
      return fetching
    }
    fetching = (async () => {
      try {
        const today = await api.crewToday()
        if (!stopped) show(today)
      } catch (e) {
        // Not reachable: the last list stays, and the offline banner says so once the socket notices.
        ended(e)
      } finally {
        fetching = null
        if (again && !stopped) {
          again = false
          void refetch()
        }
      }
    })()
    return fetching
  }
  let timer: ReturnType<typeof setTimeout> | null = null
  const refetchSoon = () => {
    if (timer) return
    timer = setTimeout(() => {
      timer = null
      void refetch()
    }, REFETCH_AFTER_MS)
  }

  async function collect(row: CrewRow) {
    const bin = row.bin
    row.sending = true
    row.button.disabled = true
    say('')
    try {
      const c = await api.collected(bin.id)
      row.sending = false
      if (stopped) return
      renderRow(row, { ...row.bin, collectedAt: c.at })
      row.status.focus()
    } catch (e) {
      row.sending = false
      if (ended(e)) return
      row.button.disabled = false
      if (e instanceof ApiError && e.status === 409) {
        // Someone (or the sensor) recorded it within the hour: show theirs.
        say(`${bin.name} was already recorded as collected within the hour.`)
        return refetch()
      }
      say(`${bin.name} was not recorded as collected: ${e instanceof ApiError ? e.message : UNREACHABLE}. Try again.`)
    }
  }

  const showOffline = () => {
    if (stopped) return
    offline = true
    banner.textContent = `Showing data from ${when(new Date(dataAt).toISOString())}; reconnecting`
    banner.hidden = false
    $('conn').textContent = 'reconnecting…'
  }

  show(first)

  const socket: Socket<ServerToClientEvents, ClientToServerEvents> =
    credentials.kind === 'bearer' ? io({ auth: { token: credentials.token } }) : io()
  const stop = () => {
    stopped = true
    if (timer) clearTimeout(timer)
    socket.disconnect()
    map.remove()
    rows.clear()
    list.replaceChildren()
    banner.hidden = true
    say('')
    $('conn').textContent = ''
  }
  socket.on('connect', () => {
    $('conn').textContent = 'live'
    if (!offline) return
    offline = false
    banner.hidden = true
    // Whatever happened while away was missed: fetch it.
    void refetch()
  })
  socket.on('disconnect', showOffline)
  socket.on('connect_error', (e) => {
    if (e.message === 'UNAUTHENTICATED') return end({ reason: 'signed-out' })
    if (e.message === 'AUTH_THROTTLED')
      return end({ reason: 'throttled', retryAfterS: Number((e as { data?: { retryAfterS?: number } }).data?.retryAfterS) || 1 })
    showOffline()
  })
  socket.on('device:state', (s: DeviceState) => {
    const row = rows.get(s.deviceId)
    const fill = s.latest?.readings.fillingLevel
    if (!row || typeof fill !== 'number' || !s.latest) return
    dataAt = Date.now()
    renderFill(row, Math.min(1, Math.max(0, fill)), s.latest.ts)
    map.update(row.bin)
  })
  const onAlert = (a: Alert) => {
    if (a.deviceType === 'bin') refetchSoon()
  }
  socket.on('alert:raised', onAlert)
  socket.on('alert:acknowledged', onAlert)
  socket.on('alert:cleared', onAlert)
  socket.on('alert:changed', (c) => onAlert(c.alert))
  return { stop }
}
