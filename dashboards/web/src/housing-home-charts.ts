import type { Rule } from '#devices'
import type { DeviceWithState } from './api.ts'
import { type Asked, type ChartSpec, createChart, type Point } from './housing-chart.ts'
import { dampRuleOf } from './housing-damp.ts'
import type { HousingApi } from './housing-data.ts'
import { section } from './housing-home-now.ts'
import { levelsOf } from './housing-words.ts'
import { endedBy, failure, say } from './view.ts'

/** The periods a chart shows, and how finely: raw readings for a day, means beyond (the API needs `every` past 7 days). */
const PERIODS = [
  { id: '24h', label: 'last 24 hours', button: '24 hours', ms: 86_400_000, every: null },
  { id: '7d', label: 'last 7 days', button: '7 days', ms: 7 * 86_400_000, every: '15m' },
  { id: '30d', label: 'last 30 days', button: '30 days', ms: 30 * 86_400_000, every: '1h' },
] as const
type Period = (typeof PERIODS)[number]

interface Readings {
  points: Point[]
}

/** Boiler pressure, flow and return temperatures, and each room's humidity with the damp-risk periods shaded. */
export function createCharts(o: {
  api: HousingApi
  devices: readonly DeviceWithState[]
  message: HTMLElement
  onEnded: Parameters<typeof endedBy>[1]
}) {
  const el = section('Charts', 'home-charts')
  const group = document.createElement('div')
  group.setAttribute('role', 'group')
  group.setAttribute('aria-label', 'Period the charts show')
  group.className = 'periods'
  const figures = document.createElement('div')
  figures.className = 'hcharts'
  figures.setAttribute('aria-busy', 'true')
  el.append(group, figures)

  const buttons = PERIODS.map((p) => {
    const b = document.createElement('button')
    b.type = 'button'
    b.textContent = `Show ${p.button}`
    b.dataset.period = p.id
    b.setAttribute('aria-pressed', 'false')
    b.addEventListener('click', () => void show(p))
    group.append(b)
    return b
  })

  const rulesOf = new Map<string, Rule[]>()
  const charts: { deviceId: string; chart: ReturnType<typeof createChart> }[] = []
  const ready = (async () => {
    for (const d of o.devices) {
      const r = await o.api.get<{ rules: Rule[] }>(`/api/rules/effective/${encodeURIComponent(d.id)}`)
      rulesOf.set(d.id, r.rules)
    }
    const specs: ChartSpec[] = []
    for (const d of o.devices) {
      const rules = rulesOf.get(d.id) ?? []
      if (d.type === 'boiler') {
        specs.push({
          key: 'pressure',
          title: 'Boiler pressure',
          unit: 'bar',
          decimals: 2,
          deviceId: d.id,
          lines: [{ field: 'pressureBar', label: 'Pressure', colour: '#0b3d5c' }],
          levels: levelsOf(rules, 'pressureBar'),
        })
        specs.push({
          key: 'temperatures',
          title: 'Boiler flow and return temperatures',
          unit: '°C',
          decimals: 1,
          deviceId: d.id,
          lines: [
            { field: 'flowTemp', label: 'Flow temperature', colour: '#b00020' },
            { field: 'returnTemp', label: 'Return temperature', colour: '#0b5c8a', dash: [6, 4] },
          ],
          levels: [...levelsOf(rules, 'flowTemp'), ...levelsOf(rules, 'returnTemp')],
        })
      } else if (d.type === 'room') {
        specs.push({
          key: `humidity-${d.id}`,
          title: `${d.name}: humidity`,
          unit: '%',
          decimals: 0,
          deviceId: d.id,
          lines: [{ field: 'humidity', label: 'Relative humidity', colour: '#1b5e20' }],
          levels: levelsOf(rules, 'humidity'),
          damp: dampRuleOf(rules),
        })
      }
    }
    for (const s of specs) {
      const chart = createChart(s)
      charts.push({ deviceId: s.deviceId, chart })
      figures.append(chart.figure)
    }
  })()

  let asking = 0
  const show = async (p: Period) => {
    const mine = ++asking
    for (const b of buttons) b.setAttribute('aria-pressed', String(b.dataset.period === p.id))
    figures.setAttribute('aria-busy', 'true')
    try {
      await ready
      const to = new Date()
      const asked: Asked = { from: new Date(to.getTime() - p.ms).toISOString(), to: to.toISOString(), every: p.every, label: p.label }
      const ids = [...new Set(charts.map((c) => c.deviceId))]
      const query = new URLSearchParams({ from: asked.from, to: asked.to, ...(asked.every ? { every: asked.every } : {}) })
      const got = await Promise.all(
        ids.map((id) => o.api.get<Readings>(`/api/devices/${encodeURIComponent(id)}/readings?${query}`).then((r) => [id, r] as const)),
      )
      if (mine !== asking) return
      const byId = new Map(got)
      for (const c of charts) c.chart.show(byId.get(c.deviceId)?.points ?? [], asked)
      figures.setAttribute('aria-busy', 'false')
    } catch (e) {
      if (mine === asking) figures.setAttribute('aria-busy', 'false')
      if (!endedBy(e, o.onEnded)) say(o.message, `The charts could not load: ${failure(e)}`)
    }
  }
  void show(PERIODS[0])
  return {
    el,
    stop() {
      asking++
      for (const c of charts) c.chart.destroy()
    },
  }
}
