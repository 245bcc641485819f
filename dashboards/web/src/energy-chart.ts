import uPlot from 'uplot'
import 'uplot/dist/uPlot.min.css'
import type { EnergyDay } from '#devices'
import { kwh } from './energy-words.ts'

/** The plot element carries its uPlot instance so a test can read back exactly what was drawn. */
export type PlotElement = HTMLElement & { plot?: uPlot }

const HEIGHT = 240
const BAND_FILL = 'rgba(11, 61, 92, 0.16)'
const USUAL = '#0b3d5c'
const TODAY = '#b34700'

const widthOf = (el: HTMLElement) => Math.max(200, Math.floor(el.parentElement?.clientWidth ?? 300))
const hourMinute = new Intl.DateTimeFormat('en-GB', { timeZone: 'Europe/London', hour: '2-digit', minute: '2-digit', hourCycle: 'h23' })

/**
 * The day's half-hourly kWh (solid, with points) against the usual for the weekday: the median
 * (dashed) inside the shaded 10th–90th percentile band; a table of the same figures for those who
 * cannot see the chart.
 */
export function createDayChart() {
  const figure = document.createElement('figure')
  figure.className = 'energy-chart'
  const caption = document.createElement('figcaption')
  const plotEl: PlotElement = document.createElement('div')
  plotEl.className = 'energy-plot'
  plotEl.setAttribute('role', 'img')
  const key = document.createElement('ul')
  key.className = 'energy-key'
  for (const [text, cls] of [
    ['This day: solid line with dots', 'key-today'],
    ['Usual for the weekday (median): dashed line', 'key-usual'],
    ['Usual range (10th to 90th percentile): shaded band', 'key-band'],
  ] as const) {
    const li = document.createElement('li')
    li.className = cls
    li.textContent = text
    key.append(li)
  }
  const details = document.createElement('details')
  const summary = document.createElement('summary')
  summary.textContent = 'The half-hours as a table'
  const table = document.createElement('table')
  table.className = 'energy-table energy-halfhours'
  details.append(summary, table)
  figure.append(caption, plotEl, key, details)

  let plot: uPlot | null = null
  const resize = new ResizeObserver(() => plot?.setSize({ width: widthOf(plotEl), height: HEIGHT }))
  resize.observe(figure)

  const show = (d: EnergyDay) => {
    caption.textContent = `Energy used each half-hour on ${d.weekday} ${d.day} (kWh), against the usual ${d.weekday}`
    plotEl.setAttribute('aria-label', `Chart of energy used each half-hour on ${d.weekday}; the figures are in the table below.`)
    const hh = d.halfHours
    const data: uPlot.AlignedData = [
      hh.map((h) => Date.parse(h.start) / 1000),
      hh.map((h) => h.high),
      hh.map((h) => h.low),
      hh.map((h) => h.median),
      hh.map((h) => h.kwh),
    ]
    plot?.destroy()
    plot = new uPlot(options(widthOf(plotEl)), data, plotEl)
    plotEl.plot = plot
    fillTable(table, d)
  }
  return {
    figure,
    show,
    // Twice when a view ends itself (signed out): once by the view, once by the app showing the sign-in.
    destroy() {
      resize.disconnect()
      plot?.destroy()
      plot = null
    },
  }
}

function options(width: number): uPlot.Options {
  return {
    width,
    height: HEIGHT,
    legend: { show: false },
    cursor: { show: false },
    tzDate: (ts) => uPlot.tzDate(new Date(ts * 1000), 'Europe/London'),
    scales: { y: { range: (_u, _min, max) => [0, Math.max(1, (max ?? 1) * 1.1)] } },
    axes: [
      { stroke: '#1b1b1b', grid: { stroke: '#e3e3e3' }, values: (_u, splits) => splits.map((x) => hourMinute.format(x * 1000)) },
      { stroke: '#1b1b1b', grid: { stroke: '#e3e3e3' }, size: 52, label: 'kWh', values: (_u, ticks) => ticks.map((t) => t.toFixed(1)) },
    ],
    series: [
      {},
      { label: 'Usual high', stroke: 'transparent', points: { show: false } },
      { label: 'Usual low', stroke: 'transparent', points: { show: false } },
      { label: 'Usual', stroke: USUAL, width: 2, dash: [8, 5], points: { show: false } },
      { label: 'This day', stroke: TODAY, width: 2, points: { show: true, size: 5, fill: TODAY } },
    ],
    bands: [{ series: [1, 2], fill: BAND_FILL }],
  }
}

function fillTable(table: HTMLTableElement, d: EnergyDay) {
  const head = document.createElement('thead')
  const tr = document.createElement('tr')
  for (const h of ['Half-hour from', `This ${d.weekday}`, 'Usual', 'Usual range']) {
    const th = document.createElement('th')
    th.scope = 'col'
    th.textContent = h
    tr.append(th)
  }
  head.append(tr)
  const body = document.createElement('tbody')
  for (const h of d.halfHours) {
    const row = document.createElement('tr')
    const th = document.createElement('th')
    th.scope = 'row'
    th.textContent = h.time
    const td = (label: string, text: string) => {
      const c = document.createElement('td')
      c.dataset.label = label
      c.textContent = text
      return c
    }
    row.append(
      th,
      td(`This ${d.weekday}`, h.kwh === null ? 'no reading' : kwh(h.kwh)),
      td('Usual', h.median === null ? 'not known yet' : kwh(h.median)),
      td('Usual range', h.low === null || h.high === null ? 'not known yet' : `${kwh(h.low)} to ${kwh(h.high)}`),
    )
    body.append(row)
  }
  table.replaceChildren(head, body)
}
