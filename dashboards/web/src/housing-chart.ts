import uPlot from 'uplot'
import 'uplot/dist/uPlot.min.css'
import type { AnyRule } from '#devices'
import { describe } from './housing-chart-text.ts'
import { type DampSpan, dampSpans } from './housing-damp.ts'
import type { Level } from './housing-words.ts'

/** One line on a chart: a reading field of the device. */
export interface Line {
  field: string
  label: string
  colour: string
  /** A dash pattern tells lines apart without colour. */
  dash?: number[]
}

export interface ChartSpec {
  /** Names the chart for tests and styles: data-chart="pressure". */
  key: string
  title: string
  unit: string
  decimals: number
  deviceId: string
  lines: Line[]
  levels: Level[]
  /** Shade where the damp rule's conditions hold, judged on the first line. */
  damp?: AnyRule | null
}

/** The window asked of the readings API, kept on the chart so anyone can ask for the same again. */
export interface Asked {
  from: string
  to: string
  every: string | null
  label: string
}

export type Point = Record<string, unknown>
/** The plot element carries its uPlot instance so a test can read back exactly what was drawn. */
export type PlotElement = HTMLElement & { plot?: uPlot }

const LEVEL_COLOUR = { info: '#0b3d5c', warning: '#8a6d00', critical: '#b00020' } as const
const DAMP_FILL = 'rgba(176, 0, 32, 0.13)'
const HEIGHT = 220

const numberOr = (v: unknown) => (typeof v === 'number' && Number.isFinite(v) ? v : null)

/** A chart figure: the uPlot canvas, a key in words, and the figures as a table for those who cannot see the chart. */
export function createChart(spec: ChartSpec) {
  const figure = document.createElement('figure')
  figure.className = 'hchart'
  const caption = document.createElement('figcaption')
  const plotEl: PlotElement = document.createElement('div')
  plotEl.className = 'hchart-plot'
  plotEl.dataset.chart = spec.key
  plotEl.dataset.deviceId = spec.deviceId
  plotEl.dataset.fields = spec.lines.map((l) => l.field).join(',')
  plotEl.setAttribute('role', 'img')
  const key = document.createElement('ul')
  key.className = 'hchart-key'
  const empty = document.createElement('p')
  empty.className = 'muted'
  const details = document.createElement('details')
  const summary = document.createElement('summary')
  summary.textContent = `${spec.title}: the figures as text`
  const table = document.createElement('table')
  const spansList = document.createElement('ul')
  details.append(summary, table, spansList)
  figure.append(caption, plotEl, empty, key, details)

  let plot: uPlot | null = null
  let spans: DampSpan[] = []
  const resize = new ResizeObserver(() => plot?.setSize({ width: widthOf(plotEl), height: HEIGHT }))
  resize.observe(plotEl)

  const show = (points: readonly Point[], asked: Asked) => {
    plotEl.dataset.from = asked.from
    plotEl.dataset.to = asked.to
    plotEl.dataset.every = asked.every ?? ''
    caption.textContent = `${spec.title} (${spec.unit}), ${asked.label}`
    const xs = points.map((p) => Date.parse(String(p.time)) / 1000)
    const ys = spec.lines.map((l) => points.map((p) => numberOr(p[l.field])))
    const data: uPlot.AlignedData = [xs, ...ys]
    spans =
      spec.damp && ys[0]
        ? dampSpans(
            spec.damp,
            xs.map((x) => x * 1000),
            ys[0],
          )
        : []
    plot?.destroy()
    plot = null
    delete plotEl.plot
    empty.textContent = xs.length === 0 ? `No readings in the ${asked.label}.` : ''
    plotEl.hidden = xs.length === 0
    plotEl.setAttribute('aria-label', `Chart of ${spec.title.toLowerCase()} over the ${asked.label}; the figures are in the table below.`)
    if (xs.length > 0) {
      plot = new uPlot(
        options(spec, () => spans, widthOf(plotEl)),
        data,
        plotEl,
      )
      plotEl.plot = plot
    }
    describe(spec, xs, ys, spans, { key, table, spansList })
  }
  // Twice when a view ends itself (signed out): once by the view, once by the app showing the sign-in.
  const destroy = () => {
    resize.disconnect()
    plot?.destroy()
    plot = null
  }
  return { figure, plotEl, show, destroy }
}

const hourMinute = new Intl.DateTimeFormat('en-GB', { timeZone: 'Europe/London', hour: '2-digit', minute: '2-digit' })
const dayMonth = new Intl.DateTimeFormat('en-GB', { timeZone: 'Europe/London', weekday: 'short', day: 'numeric', month: 'short' })
/** London time on the axis: hours and minutes when the ticks are under a day apart, else the day. */
const timeLabel = (x: number, incrS: number) => (incrS < 86_400 ? hourMinute : dayMonth).format(x * 1000)

const widthOf = (el: HTMLElement) => Math.max(200, Math.floor(el.parentElement?.clientWidth ?? el.clientWidth ?? 300))

function options(spec: ChartSpec, spansNow: () => DampSpan[], width: number): uPlot.Options {
  const levels = spec.levels.map((l) => l.value)
  return {
    width,
    height: HEIGHT,
    legend: { show: false },
    cursor: { show: false },
    tzDate: (ts) => uPlot.tzDate(new Date(ts * 1000), 'Europe/London'),
    scales: {
      y: {
        // Room for the alert levels as well as the readings, so every line the engine watches shows.
        range: (_u, min, max) => {
          const lo = Math.min(min ?? 0, ...levels)
          const hi = Math.max(max ?? 1, ...levels)
          const pad = (hi - lo || 1) * 0.08
          return [lo - pad, hi + pad]
        },
      },
    },
    axes: [
      { stroke: '#1b1b1b', grid: { stroke: '#e3e3e3' }, values: (_u, splits, _i, _space, incr) => splits.map((x) => timeLabel(x, incr)) },
      { stroke: '#1b1b1b', grid: { stroke: '#e3e3e3' }, size: 48, values: (_u, ticks) => ticks.map((t) => t.toFixed(spec.decimals)) },
    ],
    series: [{}, ...spec.lines.map((l) => ({ label: l.label, stroke: l.colour, width: 2, ...(l.dash ? { dash: l.dash } : {}) }))],
    hooks: {
      drawClear: [(u) => shade(u, spansNow())],
      draw: [(u) => drawLevels(u, spec)],
    },
  }
}

function shade(u: uPlot, spans: readonly DampSpan[]) {
  const { ctx, bbox } = u
  ctx.save()
  ctx.fillStyle = DAMP_FILL
  for (const s of spans) {
    const x0 = u.valToPos(s.from / 1000, 'x', true)
    // A span one reading long still shows as a sliver.
    const x1 = Math.max(u.valToPos(s.to / 1000, 'x', true), x0 + 3)
    ctx.fillRect(x0, bbox.top, x1 - x0, bbox.height)
  }
  ctx.restore()
}

function drawLevels(u: uPlot, spec: ChartSpec) {
  const { ctx, bbox } = u
  const dpr = uPlot.pxRatio
  ctx.save()
  ctx.lineWidth = 2 * dpr
  ctx.setLineDash([8 * dpr, 5 * dpr])
  ctx.font = `${12 * dpr}px system-ui, sans-serif`
  ctx.textAlign = 'right'
  for (const l of spec.levels) {
    const y = u.valToPos(l.value, 'y', true)
    ctx.strokeStyle = LEVEL_COLOUR[l.severity]
    ctx.fillStyle = LEVEL_COLOUR[l.severity]
    ctx.beginPath()
    ctx.moveTo(bbox.left, y)
    ctx.lineTo(bbox.left + bbox.width, y)
    ctx.stroke()
    ctx.fillText(`${l.value} ${spec.unit}`, bbox.left + bbox.width - 4 * dpr, y - 4 * dpr)
  }
  ctx.restore()
}
