import 'leaflet/dist/leaflet.css'
import L from 'leaflet'
import type { CrewBin } from '#devices'
import { bandOf, fillText, MAP_OVERVIEW_FROM, markerStyle, type Placed, placed } from './crew-words.ts'

export interface CrewMap {
  /** Draws these bins (one marker each), dropping markers of bins no longer listed. */
  show(bins: readonly CrewBin[]): void
  /** Restyles one bin's marker (a live reading). */
  update(bin: CrewBin): void
  remove(): void
}

/** Milliseconds of marker drawing per task: well under the 50 ms that makes a task long. */
const TASK_BUDGET_MS = 12

// Great Britain, for a round whose bins have no positions yet.
const GB: L.LatLngExpression = [54.0, -2.5]

const styleOf = (b: CrewBin): L.CircleMarkerOptions => markerStyle(b)

const labelOf = (b: CrewBin) =>
  [b.name, `${fillText(b)} (${bandOf(b.fill).word.toLowerCase()})`, ...b.alerts.map((a) => a.title)].join(' · ')

/**
 * Circle markers only: Leaflet's default icon images break under Vite (ecosystem §5.7), and
 * circles need no images at all. Without a tile URL the markers show on a blank map.
 */
export function createCrewMap(container: HTMLElement, tileUrl: string | null, onPick: (deviceId: string) => void, expected = 0): CrewMap {
  // Thousands of SVG circles cost a phone seconds to lay out; one canvas draws them in milliseconds.
  // A round's few dozen stay SVG, each its own element (tests and assistive tools can find them).
  const many = expected > MAP_OVERVIEW_FROM
  const map = L.map(container, { attributionControl: tileUrl !== null, zoomSnap: 0.5, preferCanvas: many }).setView(GB, 5)
  if (tileUrl) L.tileLayer(tileUrl, { maxZoom: 19, attribution: `Map tiles: ${new URL(tileUrl.replace('{s}', 'a')).host}` }).addTo(map)
  const markers = new Map<string, L.CircleMarker>()
  /** The latest of each bin, for a tooltip made only when a pointer first rests on its marker. */
  const latest = new Map<string, CrewBin>()
  /** Bumped by each show(): a slower earlier one stops drawing. */
  let generation = 0
  let removed = false
  let fitted = false
  let bounds: L.LatLngBounds | null = null

  const fitOnce = () => {
    if (fitted || !bounds || container.clientWidth === 0) return
    map.invalidateSize()
    map.fitBounds(bounds, { padding: [24, 24], maxZoom: 17 })
    fitted = true
  }
  // The view is still hidden when the map is made; it is sized and fitted once it shows.
  const resized = new ResizeObserver(() => {
    map.invalidateSize()
    fitOnce()
  })
  resized.observe(container)

  const place = (b: Placed) => {
    latest.set(b.id, b)
    let m = markers.get(b.id)
    if (!m) {
      m = L.circleMarker([b.latitude, b.longitude], styleOf(b)).addTo(map)
      const id = b.id
      const marker = m
      m.on('click', () => onPick(id))
      // A round's SVG circles are buttons too: Tab reaches each, Enter or Space finds its row as a tap does.
      m.getElement()?.addEventListener('keydown', (e) => {
        if ((e as KeyboardEvent).key !== 'Enter' && (e as KeyboardEvent).key !== ' ') return
        e.preventDefault()
        onPick(id)
      })
      // Two thousand tooltips made up front cost a phone a long task; most are never seen.
      if (many) m.once('mouseover', () => marker.bindTooltip(labelOf(latest.get(id) ?? b)).openTooltip())
      markers.set(b.id, m)
    } else {
      m.setLatLng([b.latitude, b.longitude]).setStyle(styleOf(b)).setRadius(bandOf(b.fill).radius)
    }
    if (m.getTooltip()) m.setTooltipContent(labelOf(b))
    else if (!many) m.bindTooltip(labelOf(b))
    const path = m.getElement()
    if (path instanceof SVGElement) {
      path.dataset.deviceId = b.id
      path.dataset.band = bandOf(b.fill).id
      path.classList.add('bin-marker')
      // Its name says the band in words (colour is never the only cue) and what the bin is.
      path.setAttribute('role', 'button')
      path.setAttribute('tabindex', '0')
      path.setAttribute('aria-label', `Find in the list: ${labelOf(b)}`)
    }
  }

  return {
    show(bins) {
      const seen = new Set<string>()
      const points: L.LatLngTuple[] = []
      const todo: Placed[] = []
      for (const b of bins) {
        if (!placed(b)) continue
        seen.add(b.id)
        points.push([b.latitude, b.longitude])
        todo.push(b)
      }
      for (const [id, m] of markers)
        if (!seen.has(id)) {
          m.remove()
          markers.delete(id)
          latest.delete(id)
        }
      bounds = points.length > 0 ? L.latLngBounds(points) : null
      fitOnce()
      // A few milliseconds of markers a task, however slow the phone, so a tap on the list is never
      // kept waiting behind the map.
      const mine = ++generation
      let i = 0
      const step = () => {
        if (removed || mine !== generation) return
        const from = performance.now()
        while (i < todo.length && (i % 10 !== 0 || performance.now() - from < TASK_BUDGET_MS)) place(todo[i++]!)
        if (i < todo.length) setTimeout(step, 0)
      }
      step()
    },
    update(b) {
      if (placed(b) && markers.has(b.id)) place(b)
    },
    remove() {
      // Leaflet throws on a second remove ("Map container is being reused").
      if (removed) return
      removed = true
      resized.disconnect()
      map.remove()
      markers.clear()
    },
  }
}
