import type { CrewMap } from './crew-map.ts'
import { markerStyle, type Placed, placed, positions } from './crew-words.ts'

/** As the Leaflet map fits its bins (crew-map.ts): 24 px of padding, zoom in half steps, at most 17. */
const PADDING = 24
const MAX_ZOOM = 17
const ZOOM_SNAP = 0.5
/** Live readings redraw the overview at most this often: 2,000 circles cost a slow phone a fifth of a second. */
const REDRAW_MS = 1_000
/** Circles drawn between looks at the clock. */
const CHUNK = 25
/** Milliseconds of drawing per task: well under the 50 ms that makes a task long. */
const TASK_BUDGET_MS = 12
/** How far from a circle's centre a finger still means that bin, in CSS pixels. */
const TOUCH_SLOP = 8

type Spot = { x: number; y: number; r: number; id: string }
type Look = ReturnType<typeof markerStyle>
const sameLook = (a: Look, b: Look) =>
  a.radius === b.radius &&
  a.fillColor === b.fillColor &&
  a.fillOpacity === b.fillOpacity &&
  a.color === b.color &&
  a.weight === b.weight &&
  a.dashArray === b.dashArray

/** Web Mercator (Leaflet's EPSG:3857), as parts of the world's width: x and y in 0–1. */
const mercX = (lon: number) => (lon + 180) / 360
const mercY = (lat: number) => {
  const s = Math.sin((Math.max(-85.0511, Math.min(85.0511, lat)) * Math.PI) / 180)
  return 0.5 - Math.log((1 + s) / (1 - s)) / (4 * Math.PI)
}

/**
 * The map of a large round before Leaflet is loaded: the same circles on one canvas, where Leaflet
 * would put them, and nothing else on the main thread. Leaflet's own code takes a slow phone a
 * long task to start, and thousands of bins are an overview before they are a map to pan. The first
 * touch (or the button, from the keyboard) calls `wake`, which brings Leaflet in its place; a tap on
 * a circle also finds that bin in the list at once.
 */
export function createMapPreview(container: HTMLElement, onPick: (deviceId: string) => void, wake: () => void): CrewMap {
  const canvas = document.createElement('canvas')
  canvas.className = 'crew-map-preview'
  canvas.setAttribute('role', 'img')
  const button = document.createElement('button')
  button.type = 'button'
  button.className = 'crew-map-wake'
  button.textContent = 'Move and zoom the map'
  container.append(canvas, button)

  let bins: Placed[] = []
  /** Made at the first live change, not with each list. */
  let indexOf: Map<string, number> | null = null
  /** Where each drawn circle is, in CSS pixels, for a tap to find. */
  let spots: Spot[] = []
  let timer: ReturnType<typeof setTimeout> | null = null
  let woken = false

  /** The container's inner size in CSS pixels, from the last resize seen; 0 while hidden. */
  let size = { w: 0, h: 0 }
  /** Where circles are drawn before they are shown. */
  let back: CanvasRenderingContext2D | null = null
  /** Bumped by each draw: a slower earlier one stops. */
  let generation = 0
  let removed = false

  /**
   * Draws on a canvas of its own, a few milliseconds a task (2,000 circles take a phone slowed 4× tens
   * of them), then shows it in one go: a tap on the list is never kept waiting, and no half-drawn map shows.
   */
  const draw = () => {
    const mine = ++generation
    const { w, h } = size
    if (w === 0 || h === 0) return
    if (bins.length === 0) {
      // Nothing to place (yet, or any more): no canvas to make, and none of the last one's circles left.
      if (canvas.dataset.bins) {
        canvas.getContext('2d')?.clearRect(0, 0, canvas.width, canvas.height)
        canvas.dataset.bins = '0'
        spots = []
      }
      return
    }
    const ratio = window.devicePixelRatio || 1
    const width = Math.round(w * ratio)
    const height = Math.round(h * ratio)
    // Kept from draw to draw: making one costs a slow phone tens of milliseconds.
    if (!back || back.canvas.width !== width || back.canvas.height !== height) {
      const buffer = document.createElement('canvas')
      buffer.width = width
      buffer.height = height
      // Drawn by the CPU, so a chunk's drawing can be finished inside its own task (below).
      back = buffer.getContext('2d', { willReadFrequently: true })
    }
    const ctx = back
    if (!ctx) return
    ctx.setTransform(ratio, 0, 0, ratio, 0, 0)
    ctx.clearRect(0, 0, w, h)
    ctx.lineCap = 'round'
    ctx.lineJoin = 'round'
    const list = bins
    let x0 = 1,
      x1 = 0,
      y0 = 1,
      y1 = 0
    for (const b of list) {
      const x = mercX(b.longitude)
      const y = mercY(b.latitude)
      if (x < x0) x0 = x
      if (x > x1) x1 = x
      if (y < y0) y0 = y
      if (y > y1) y1 = y
    }
    // Leaflet's fitBounds: the largest zoom, in half steps, at which the bins fit inside the padding.
    const fit = Math.min((w - 2 * PADDING) / (256 * (x1 - x0)), (h - 2 * PADDING) / (256 * (y1 - y0)))
    const zoom = Math.min(MAX_ZOOM, Math.floor((Math.round(Math.log2(fit) / 0.005) * 0.005) / ZOOM_SNAP) * ZOOM_SNAP)
    const scale = 256 * 2 ** zoom
    const cx = (x0 + x1) / 2
    const cy = (y0 + y1) / 2
    const drawn: Spot[] = []
    // Neighbours in the list that look the same are one path: one fill and one stroke, not one each.
    let run: Look | null = null
    const paint = () => {
      if (!run) return
      ctx.globalAlpha = run.fillOpacity
      ctx.fillStyle = run.fillColor
      ctx.fill()
      ctx.globalAlpha = 1
      ctx.lineWidth = run.weight
      ctx.strokeStyle = run.color
      ctx.setLineDash(run.dashArray ? run.dashArray.split(' ').map(Number) : [])
      ctx.stroke()
      run = null
    }
    let i = 0
    const step = () => {
      if (removed || mine !== generation) return
      const from = performance.now()
      while (i < list.length && performance.now() - from < TASK_BUDGET_MS) {
        for (const end = Math.min(list.length, i + CHUNK); i < end; ) {
          const b = list[i++]!
          const s = markerStyle(b)
          if (run && !sameLook(run, s)) paint()
          if (!run) {
            run = s
            ctx.beginPath()
          }
          const x = (mercX(b.longitude) - cx) * scale + w / 2
          const y = (mercY(b.latitude) - cy) * scale + h / 2
          drawn.push({ x, y, r: s.radius, id: b.id })
          ctx.moveTo(x + s.radius, y)
          ctx.arc(x, y, s.radius, 0, 2 * Math.PI)
        }
        paint()
        // A canvas records its drawing and does it later, all at once, when it is next read: 2,000
        // circles are then one long task. Reading a pixel has each chunk drawn now, within the budget.
        ctx.getImageData(0, 0, 1, 1)
      }
      if (i < list.length) {
        setTimeout(step, 0)
        return
      }
      canvas.width = width
      canvas.height = height
      canvas.getContext('2d')?.drawImage(ctx.canvas, 0, 0)
      spots = drawn
      canvas.dataset.bins = String(list.length)
      const full = list.filter((b) => (b.fill ?? 0) >= 0.95).length
      canvas.setAttribute('aria-label', `Map of ${list.length} bins, ${full} of them full. The list below has every one.`)
    }
    // The first circles in a task after this one, which may have had to make the canvas.
    setTimeout(step, 0)
  }

  /** Draws in a task of its own, once however often asked meanwhile; `now` brings a wait for one sooner. */
  const soon = (ms: number) => {
    if (timer && ms > 0) return
    if (timer) clearTimeout(timer)
    timer = setTimeout(() => {
      timer = null
      draw()
    }, ms)
  }
  // The view is hidden when the overview is made; it is drawn once it has a size, and again on a turn of the phone.
  // Not inside the observer's call, which comes between a frame's layout and its paint: the list's first rows would wait for it.
  // Its size as the observer saw it: asking the container would have the phone lay out the page then and there.
  const resized = new ResizeObserver((entries) => {
    const box = entries[entries.length - 1]?.contentRect
    if (!box) return
    size = { w: Math.round(box.width), h: Math.round(box.height) }
    soon(0)
  })
  resized.observe(container)

  const wakeOnce = () => {
    if (woken) return
    woken = true
    // Not disabled: a disabled button drops the keyboard's focus, which the map takes when it comes.
    button.textContent = 'Loading the map…'
    wake()
  }
  canvas.addEventListener('click', (e) => {
    const r = canvas.getBoundingClientRect()
    const x = e.clientX - r.left
    const y = e.clientY - r.top
    // The topmost circle under the finger: drawn last, so looked for from the end.
    for (let i = spots.length - 1; i >= 0; i--) {
      const s = spots[i]!
      if (Math.hypot(s.x - x, s.y - y) <= s.r + TOUCH_SLOP) {
        onPick(s.id)
        break
      }
    }
    wakeOnce()
  })
  canvas.addEventListener('pointerdown', wakeOnce)
  button.addEventListener('click', wakeOnce)

  return {
    show(list) {
      bins = list.filter(placed)
      indexOf = null
      // Not in the caller's task: that one has just drawn the list's rows.
      soon(0)
    },
    update(b) {
      if (!indexOf) indexOf = positions(bins)
      const i = indexOf.get(b.id)
      if (i === undefined || !placed(b)) return
      bins[i] = b
      soon(REDRAW_MS)
    },
    remove() {
      removed = true
      if (timer) clearTimeout(timer)
      resized.disconnect()
      canvas.remove()
      button.remove()
    },
  }
}
