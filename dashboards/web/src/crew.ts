import type { Alert, CrewBin, CrewToday, DeviceState } from '#devices'
import { CREW_FIRST_PAGE, CREW_MAX_BINS } from '#devices/crew-limits'
import { afterPaint } from './after-paint.ts'
import { type Api, ApiError, type Credentials } from './api.ts'
import { type CrewRow, createRow, refreshRow, renderRow } from './crew-list.ts'
import type { CrewMap } from './crew-map.ts'
import { createMapPreview } from './crew-map-preview.ts'
import { phoneAlerts } from './crew-push.ts'
import { wholeList } from './crew-whole.ts'
import { londonToday, MAP_OVERVIEW_FROM, positions, when } from './crew-words.ts'
import type { Dashboard, Ended } from './dashboard.ts'
import { connectLive } from './live.ts'

const $ = <T extends HTMLElement>(id: string) => document.getElementById(id) as T

/**
 * Rows drawn at first; more on request. A crew works down the top of the list, and a phone lays out
 * 2,000 rows in seconds: the map still shows every bin, and tapping one draws the rows down to it.
 */
const LIST_PAGE = CREW_FIRST_PAGE

/** Whether the answer holds every bin the server lists, or only the top asked for first. */
const isWhole = (t: CrewToday) => t.bins.length >= Math.min(t.total, CREW_MAX_BINS)

/**
 * The first list, the top of it only: the one fetched early (if it came back fine), else asked for
 * now, which reports why not. The whole list follows for the map and "Show more".
 */
async function firstList(api: Api, early: Promise<CrewToday> | null): Promise<CrewToday> {
  if (early) {
    try {
      return await early
    } catch {
      // Signed in with a token, or the cookie had expired: ask the usual way.
    }
  }
  return api.crewToday(CREW_FIRST_PAGE)
}

/** True when `list` holds exactly these rows, in this order. */
function inPlace(list: HTMLElement, order: HTMLLIElement[]): boolean {
  const now = list.children
  if (now.length !== order.length) return false
  for (let i = 0; i < order.length; i++) if (now[i] !== order[i]) return false
  return true
}

/** Alert events come in bursts (a round of readings); one fetch answers a burst. */
const REFETCH_AFTER_MS = 400

const UNREACHABLE = 'no connection to the service'

/**
 * The crew's phone view: a map of their bins and today's list, most urgent first, with one
 * tap to mark a bin collected. Live over Socket.IO: readings move the fill, alerts fetch the
 * list again. When the connection drops, the last data stays on screen and says how old it is.
 */
export async function startCrew(
  api: Api,
  credentials: Credentials,
  onEnded: (e: Ended) => void,
  early: Promise<CrewToday> | null = null,
): Promise<Dashboard> {
  const first = await firstList(api, early)

  const list = $('crew-list')
  const banner = $('crew-offline')
  const rows = new Map<string, CrewRow>()
  /** When what is on screen was last known to be current. */
  let dataAt = Date.now()
  let stopped = false

  const say = (message: string) => {
    const m = $('crew-message')
    m.textContent = message
    m.className = message ? 'error' : ''
  }

  /** How many of the list's bins have rows; the map shows them all. */
  let length = LIST_PAGE
  let latest = first
  const more = document.createElement('button')
  more.type = 'button'
  more.className = 'crew-more'
  more.addEventListener('click', async () => {
    // Tapped before the whole list came: it comes first.
    if (!isWhole(latest)) await refetch()
    if (stopped) return
    length += LIST_PAGE
    show(latest)
    rows.get(latest.bins[length - LIST_PAGE]?.id ?? '')?.button.focus()
  })

  const pick = (deviceId: string) => {
    const at = latest.bins.findIndex((b) => b.id === deviceId)
    if (at >= length) {
      length = (Math.floor(at / LIST_PAGE) + 1) * LIST_PAGE
      show(latest)
    }
    const row = rows.get(deviceId)
    if (!row) return
    row.li.scrollIntoView({ block: 'center' })
    ;(row.li.contains(row.button) ? row.button : row.status).focus()
  }
  // The map and its library come after the list: a crew can start on the list while it loads. A large
  // round's map is an overview first (crew-map-preview.ts): Leaflet comes when a finger or key asks.
  let map: CrewMap | null = null
  const container = $('crew-map')
  const loadMap = (focus: boolean) =>
    import('./crew-map.ts')
      .then(({ createCrewMap }) => {
        if (stopped) return
        const leaflet = createCrewMap(container, first.mapTileUrl, pick, Math.max(first.total, first.bins.length))
        map?.remove()
        map = leaflet
        leaflet.show(latest.bins)
        if (focus) container.focus()
      })
      .catch(() => {
        if (!stopped) say('The map could not load; the list below works without it. Reload the page to try the map again.')
      })
  const openMap = () => {
    if (first.total <= MAP_OVERVIEW_FROM) return void loadMap(false)
    map = createMapPreview(container, pick, () => void loadMap(container.contains(document.activeElement)))
    // An overview of the top fifty would be drawn again a moment later: it waits for the whole list.
    if (isWhole(latest)) map.show(latest.bins)
  }

  /** Where each bin is in `latest.bins`, for live changes. */
  let indexOf: Map<string, number> | null = null
  /** Made when first asked (a live change), not with each list: 2,000 entries are tens of milliseconds of a slow phone. */
  const at = (id: string) => {
    if (!indexOf) indexOf = positions(latest.bins)
    return indexOf.get(id)
  }
  const show = (today: CrewToday) => {
    if (today !== latest) indexOf = null
    latest = today
    const focused = list.contains(document.activeElement) ? (document.activeElement as HTMLElement) : null
    const order: HTMLLIElement[] = []
    const listed = new Set<string>()
    for (const b of today.bins.slice(0, length)) {
      listed.add(b.id)
      let row = rows.get(b.id)
      if (row) refreshRow(row, b)
      else {
        row = createRow(b, collect)
        rows.set(b.id, row)
      }
      order.push(row.li)
    }
    for (const id of rows.keys()) if (!listed.has(id)) rows.delete(id)
    // Putting back rows already in place still has the phone lay out and paint all of them again.
    if (!inPlace(list, order)) list.replaceChildren(...order)
    // Until the whole list is in, the counts are the server's (the rows are the top of it already).
    const shown = isWhole(today) ? today.bins.length : Math.min(today.total, CREW_MAX_BINS)
    const left = shown - order.length
    more.textContent = `Show ${Math.min(left, LIST_PAGE)} more bins (${left} not shown)`
    if (left > 0) list.after(more)
    else more.remove()
    // Reordering moves rows out and back, which drops focus; a crew mid-tap keeps their place.
    if (focused && list.contains(focused)) focused.focus()
    $('crew-summary').textContent =
      shown === 0
        ? 'No bins in your areas.'
        : `${shown} ${shown === 1 ? 'bin' : 'bins'}${today.total > shown ? `, the most urgent of ${today.total}` : ''}. Most urgent first.`
    map?.show(today.bins)
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

  const whole = wholeList(api, credentials)
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
        const today = await whole.fetch()
        if (stopped) return
        dataAt = Date.now()
        show(today)
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
      patch({ ...row.bin, collectedAt: c.at })
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
    banner.textContent = `Showing data from ${when(new Date(dataAt).toISOString())}; reconnecting`
    banner.hidden = false
  }

  const push = phoneAlerts(api, $('crew-push'))
  show(first)
  // The rows first; the map and the whole list's worker once they are on screen, each in a task of its own.
  const cancelRest = afterPaint(() => {
    openMap()
    if (!isWhole(first))
      setTimeout(() => {
        if (!stopped) void refetch()
      }, 0)
  })

  const live = connectLive(credentials, {
    onEnded: (e) => end(e),
    onAway: showOffline,
    onBack: () => {
      banner.hidden = true
      // Whatever happened while away was missed: fetch it.
      void refetch()
    },
  })
  const { socket } = live
  // Called twice when the view ends itself (signed out): once here, once by the app as it shows the sign-in.
  const stop = () => {
    if (stopped) return
    stopped = true
    cancelRest()
    push.stop()
    if (timer) clearTimeout(timer)
    live.stop()
    whole.stop()
    map?.remove()
    rows.clear()
    list.replaceChildren()
    more.remove()
    banner.hidden = true
    say('')
  }
  /** A live change to one bin: kept in the list as fetched too, so drawing more rows or the map does not bring back the old. */
  const patch = (bin: CrewBin) => {
    const i = at(bin.id)
    if (i === undefined) return
    latest.bins[i] = bin
    dataAt = Date.now()
    const row = rows.get(bin.id)
    if (row && !row.sending) renderRow(row, bin)
    map?.update(bin)
  }
  socket.on('device:state', (s: DeviceState) => {
    const i = at(s.deviceId)
    const fill = s.latest?.readings.fillingLevel
    if (i === undefined || typeof fill !== 'number' || !s.latest) return
    patch({ ...latest.bins[i]!, fill: Math.min(1, Math.max(0, fill)), fillAt: s.latest.ts })
  })
  // A bin marked by a colleague (or seen emptied by its sensor) shows as done here too, at once.
  socket.on('collection:recorded', ({ collection }) => {
    const i = at(collection.deviceId)
    if (i === undefined || !londonToday(collection.at)) return
    const bin = latest.bins[i]!
    if (bin.collectedAt !== null && Date.parse(bin.collectedAt) >= Date.parse(collection.at)) return
    patch({ ...bin, collectedAt: collection.at })
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
