import type { Alert } from '#devices'
import { applyState, type Home, type HousingApi, latestOf, loadEstates } from './housing-data.ts'
import { openAlertsInWords } from './housing-words.ts'
import { connectLive } from './live.ts'
import { endedBy, failure, type StartedView, say, type ViewContext, viewHeader } from './view.ts'

const SETTLE_MS = 400

/** A trail back up: Estates › estate › home. The last part is where you are. */
export function breadcrumb(parts: { label: string; href?: string }[]): HTMLElement {
  const nav = document.createElement('nav')
  nav.setAttribute('aria-label', 'Where you are')
  nav.className = 'crumbs'
  const ol = document.createElement('ol')
  for (const p of parts) {
    const li = document.createElement('li')
    if (p.href) {
      const a = document.createElement('a')
      a.href = p.href
      a.textContent = p.label
      li.append(a)
    } else {
      li.textContent = p.label
      li.setAttribute('aria-current', 'page')
    }
    ol.append(li)
  }
  nav.append(ol)
  return nav
}

const homeHref = (h: Pick<Home, 'site' | 'uprn'>) => `#homes/${encodeURIComponent(h.site)}/${encodeURIComponent(h.uprn)}`

/** #homes/<site>: the homes of one estate, each with its open alerts in words, boiler pressure and room humidity now. */
export async function startEstate(ctx: ViewContext, api: HousingApi, site: string): Promise<StartedView> {
  const estate = (await loadEstates(api)).find((e) => e.site === site)
  const { heading, message } = viewHeader(ctx.root, estate ? estate.name : 'Estate not found')
  ctx.root.insertBefore(breadcrumb([{ label: 'Estates', href: '#homes' }, { label: estate?.name ?? site }]), heading)
  if (!estate) {
    const p = document.createElement('p')
    p.textContent = `There is no estate ${site} with homes in your areas. Go back to the estates to choose one.`
    ctx.root.append(p)
    return { stop() {} }
  }
  const list = document.createElement('ul')
  list.className = 'homes'
  list.id = 'homes'
  ctx.root.append(list)
  const devices = estate.homes.flatMap((h) => h.devices)
  let alerts: Alert[] = await api.alerts({ status: 'open', site, limit: 1000 })

  const items = new Map<string, { li: HTMLLIElement; alerts: HTMLElement; pressure: HTMLElement; humidity: HTMLElement }>()
  for (const h of estate.homes) {
    const li = document.createElement('li')
    li.className = 'home'
    li.dataset.uprn = h.uprn
    const title = document.createElement('h3')
    const a = document.createElement('a')
    a.href = homeHref(h)
    a.textContent = h.name
    title.append(a)
    const p = document.createElement('p')
    p.className = 'home-alerts'
    const dl = document.createElement('dl')
    dl.className = 'now'
    const figure = (label: string, key: string) => {
      const div = document.createElement('div')
      div.dataset.now = key
      const dt = document.createElement('dt')
      dt.textContent = label
      const dd = document.createElement('dd')
      div.append(dt, dd)
      dl.append(div)
      return dd
    }
    const pressure = figure('Boiler pressure now', 'pressure')
    const humidity = figure('Room humidity, latest', 'humidity')
    li.append(title, p, dl)
    list.append(li)
    items.set(h.uprn, { li, alerts: p, pressure, humidity })
  }

  const renderHome = (h: Home) => {
    const it = items.get(h.uprn)
    if (!it) return
    const ids = new Set(h.devices.map((d) => d.id))
    const open = alerts.filter((x) => ids.has(x.deviceId))
    it.alerts.textContent = openAlertsInWords(open)
    it.li.classList.toggle('has-alerts', open.length > 0)
    const p = h.devices.filter((d) => d.type === 'boiler').map((d) => latestOf(d, 'pressureBar'))[0]
    it.pressure.textContent = p ? `${p.value.toFixed(2)} bar` : 'No reading yet'
    const rh = h.devices
      .filter((d) => d.type === 'room')
      .map((d) => latestOf(d, 'humidity'))
      .filter((x) => x !== null)
      .sort((x, y) => y.at.localeCompare(x.at))[0]
    it.humidity.textContent = rh ? `${Math.round(rh.value)} %` : 'No reading yet'
  }
  const render = () => {
    for (const h of estate.homes) renderHome(h)
  }
  render()

  let timer: ReturnType<typeof setTimeout> | undefined
  const refetch = () => {
    clearTimeout(timer)
    timer = setTimeout(async () => {
      try {
        alerts = await api.alerts({ status: 'open', site, limit: 1000 })
        say(message, '')
        render()
      } catch (e) {
        if (!endedBy(e, ctx.onEnded)) say(message, `Could not refresh the alerts: ${failure(e)}`)
      }
    }, SETTLE_MS)
  }
  // Moving within the view (a link to a home) keeps the section, so the shell does not move focus: the page's heading takes it.
  heading.focus()
  const live = connectLive(ctx.credentials, { onEnded: ctx.onEnded, onBack: refetch })
  const ours = (a: Alert) => devices.some((d) => d.id === a.deviceId)
  live.socket.on('alert:raised', (a) => ours(a) && refetch())
  live.socket.on('alert:cleared', (a) => ours(a) && refetch())
  live.socket.on('alert:changed', (c) => ours(c.alert) && refetch())
  live.socket.on('device:state', (s) => {
    const d = applyState(devices, s)
    const h = d && estate.homes.find((x) => x.uprn === d.uprn)
    if (h) renderHome(h)
  })
  return {
    stop() {
      clearTimeout(timer)
      live.stop()
    },
  }
}
