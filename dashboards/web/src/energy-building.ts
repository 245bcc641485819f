import type { Alert, EnergyDay } from '#devices'
import { createDayChart } from './energy-chart.ts'
import { liveFigures } from './energy-live.ts'
import { againstUsual, gbp, kwh, weekAgainstUsual, weekSpan } from './energy-words.ts'
import { endedBy, failure, type StartedView, say, type ViewContext, viewHeader } from './view.ts'

const el = <K extends keyof HTMLElementTagNameMap>(tag: K, className: string, id?: string) => {
  const e = document.createElement(tag)
  e.className = className
  if (id) e.id = id
  return e
}

/** #buildings/<meter>: the week's waste up front, today against the usual, and the half-hours charted against the band. */
export async function startBuilding(ctx: ViewContext, deviceId: string): Promise<StartedView> {
  const back = el('p', 'energy-back')
  const a = document.createElement('a')
  a.href = '#buildings'
  a.textContent = 'All buildings'
  back.append(a)
  ctx.root.append(back)
  const { heading, message } = viewHeader(ctx.root, 'Building')
  const waste = el('section', 'energy-figure', 'energy-week')
  waste.setAttribute('aria-labelledby', 'energy-waste-h')
  const wasteH = el('h3', '', 'energy-waste-h')
  wasteH.textContent = 'Wasted out of hours this week'
  const wasteKwh = el('p', 'energy-big', 'energy-waste-kwh')
  const wasteGbp = el('p', 'energy-big-sub', 'energy-waste-gbp')
  const wasteHow = el('p', 'muted', 'energy-waste-how')
  const used = el('p', '', 'energy-week-used')
  waste.append(wasteH, wasteKwh, wasteGbp, used, wasteHow)
  const today = el('section', 'energy-figure', 'energy-today')
  today.setAttribute('aria-labelledby', 'energy-today-h')
  const todayH = el('h3', '', 'energy-today-h')
  const todayText = el('p', '', 'energy-today-text')
  const baselineNote = el('p', 'muted', 'energy-baseline-note')
  const chart = createDayChart()
  today.append(todayH, todayText, baselineNote, chart.figure)
  ctx.root.append(waste, today)

  const show = (d: EnergyDay) => {
    heading.textContent = d.name
    const w = d.week
    wasteKwh.dataset.kwh = String(w.wasteKwh ?? '')
    wasteKwh.textContent = w.wasteKwh === null ? 'Not known yet' : kwh(w.wasteKwh)
    wasteGbp.textContent = w.wasteGbp === null ? '' : `costing ${gbp(w.wasteGbp)} at ${(d.tariffGbpPerKwh * 100).toFixed(0)}p a kWh`
    used.textContent = `Used this week (${weekSpan(w)}): ${weekAgainstUsual(w)}.`
    wasteHow.textContent =
      w.note ??
      `Out of hours is outside ${d.openHours}. Waste is the energy above this building's usual overnight base load ` +
        `(${w.baseLoadKw} kW, from its last ${w.nights} nights) whenever it draws more than ${Math.round(w.toleranceRatio * 100)} % + ${w.toleranceKw} kW above it.`
    todayH.textContent = `${d.weekday} so far`
    const words = againstUsual(d.soFar.changePct)
    const sf = `${d.weekday} so far: ${kwh(d.soFar.kwh)}`
    todayText.textContent =
      d.soFar.usualKwh === null
        ? `${sf}. There is no usual ${d.weekday} to compare with yet.`
        : words === null
          ? `${sf}; a usual ${d.weekday} has used nothing by this time.`
          : `${sf}, ${words} the usual for a ${d.weekday} by this time (${kwh(d.soFar.usualKwh)}).`
    baselineNote.textContent = d.baseline.note ?? `The usual comes from the last ${d.baseline.weeks} ${d.weekday}s.`
    chart.show(d)
  }
  const load = async () => show(await ctx.api.get<EnergyDay>(`/api/energy/buildings/${encodeURIComponent(deviceId)}`))
  try {
    await load()
  } catch (e) {
    if (endedBy(e, ctx.onEnded)) return { stop: chart.destroy }
    heading.textContent = 'Building not found'
    waste.hidden = true
    today.hidden = true
    say(message, `Could not load this building: ${failure(e)}`)
    heading.focus()
    return { stop: chart.destroy }
  }

  const ours = (a: Alert) => a.deviceId === deviceId
  const live = liveFigures(ctx, message, load, (socket, soon) => {
    socket.on('device:state', (s) => s.deviceId === deviceId && soon())
    socket.on('alert:raised', (x) => ours(x) && soon())
    socket.on('alert:cleared', (x) => ours(x) && soon())
  })
  heading.focus()
  return {
    stop() {
      live.stop()
      chart.destroy()
    },
  }
}
