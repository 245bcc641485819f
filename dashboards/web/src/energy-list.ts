import type { EnergyBuilding, EnergyBuildings } from '#devices'
import { liveFigures } from './energy-live.ts'
import { rankWords, wasteWords, weekAgainstUsual } from './energy-words.ts'
import { endedBy, failure, type StartedView, say, type ViewContext, viewHeader } from './view.ts'

/** #buildings: the buildings in the manager's areas, most out-of-hours waste this week first. */
export async function startBuildings(ctx: ViewContext): Promise<StartedView> {
  const { heading, message } = viewHeader(ctx.root, 'Buildings')
  const intro = document.createElement('p')
  intro.id = 'energy-intro'
  // A heading rather than a caption: a caption cannot keep its place when narrow screens stack the table's rows.
  const title = document.createElement('h3')
  title.id = 'energy-buildings-h'
  title.textContent = 'Buildings by energy wasted out of hours this week'
  const table = document.createElement('table')
  table.id = 'energy-buildings'
  table.className = 'energy-table'
  table.setAttribute('aria-labelledby', title.id)
  const head = document.createElement('thead')
  const tr = document.createElement('tr')
  for (const h of ['Rank', 'Building', 'Wasted out of hours', 'Used this week']) {
    const th = document.createElement('th')
    th.scope = 'col'
    th.textContent = h
    tr.append(th)
  }
  head.append(tr)
  const body = document.createElement('tbody')
  table.append(head, body)
  const empty = document.createElement('p')
  empty.className = 'muted'
  ctx.root.append(intro, title, table, empty)

  let meters = new Set<string>()
  const load = async () => {
    const r = await ctx.api.get<EnergyBuildings>('/api/energy/buildings')
    meters = new Set(r.buildings.map((b) => b.deviceId))
    intro.textContent =
      `Ranked by energy wasted out of hours this week, from Monday to now. Out of hours is outside ${r.openHours}; ` +
      `waste is use above each building's usual overnight base load, priced at ${(r.tariffGbpPerKwh * 100).toFixed(0)}p a kWh.`
    body.replaceChildren(...r.buildings.map((b) => row(b, r.buildings.length)))
    table.hidden = r.buildings.length === 0
    title.hidden = table.hidden
    empty.textContent = r.buildings.length === 0 ? 'No buildings with energy meters in your areas yet.' : ''
  }
  try {
    await load()
  } catch (e) {
    if (endedBy(e, ctx.onEnded)) return { stop() {} }
    say(message, `Could not load the buildings: ${failure(e)}`)
  }

  const live = liveFigures(ctx, message, load, (socket, soon) => {
    socket.on('device:state', (s) => meters.has(s.deviceId) && soon())
    socket.on('alert:raised', (a) => meters.has(a.deviceId) && soon())
  })
  heading.focus()
  return {
    stop() {
      live.stop()
    },
  }
}

function cell(label: string, ...content: (Node | string)[]): HTMLTableCellElement {
  const td = document.createElement('td')
  td.dataset.label = label
  td.append(...content)
  return td
}

function row(b: EnergyBuilding, total: number): HTMLTableRowElement {
  const tr = document.createElement('tr')
  tr.dataset.deviceId = b.deviceId
  const a = document.createElement('a')
  a.href = `#buildings/${encodeURIComponent(b.deviceId)}`
  a.textContent = b.name
  a.className = 'energy-building-link'
  const waste = document.createElement('span')
  waste.className = 'energy-waste-cell'
  waste.dataset.kwh = String(b.week.wasteKwh ?? '')
  waste.textContent = b.week.wasteKwh === null ? `Not known yet. ${b.week.note ?? ''}`.trim() : wasteWords(b.week)
  tr.append(
    cell('Rank', rankWords(b.rank, total)),
    cell('Building', a),
    cell('Wasted out of hours', waste),
    cell('Used this week', weekAgainstUsual(b.week)),
  )
  return tr
}
