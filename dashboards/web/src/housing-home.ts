import type { Alert, CaseView } from '#devices'
import { applyState, type HousingApi, loadEstates } from './housing-data.ts'
import { createAlerts } from './housing-home-alerts.ts'
import { createCases } from './housing-home-cases.ts'
import { createCharts } from './housing-home-charts.ts'
import { createNow } from './housing-home-now.ts'
import { breadcrumb } from './housing-homes.ts'
import { connectLive } from './live.ts'
import { endedBy, failure, type StartedView, say, type ViewContext, viewHeader, writesClass } from './view.ts'

const SETTLE_MS = 300

/** #homes/<site>/<uprn>: one home — now, fault, Awaab's Law cases, alert history with actions, and charts. */
export async function startHome(ctx: ViewContext, api: HousingApi, site: string, uprn: string): Promise<StartedView> {
  const estate = (await loadEstates(api)).find((e) => e.site === site)
  const home = estate?.homes.find((h) => h.uprn === uprn)
  const { heading, message } = viewHeader(ctx.root, home ? home.name : 'Home not found')
  ctx.root.insertBefore(
    breadcrumb([
      { label: 'Estates', href: '#homes' },
      { label: estate?.name ?? site, href: `#homes/${encodeURIComponent(site)}` },
      { label: home?.name ?? uprn },
    ]),
    heading,
  )
  if (!estate || !home) {
    const p = document.createElement('p')
    p.textContent = 'There is no such home in your areas. Go back to the estate to choose one.'
    ctx.root.append(p)
    return { stop() {} }
  }
  const ids = new Set(home.devices.map((d) => d.id))
  const intro = document.createElement('p')
  intro.className = 'muted'
  intro.textContent = `UPRN ${uprn}. Devices: ${home.devices.map((d) => d.name).join('; ')}.`

  let alerts: Alert[] = []
  let cases: CaseView[] = []
  const fetchAlerts = async () => {
    const lists = await Promise.all(home.devices.map((d) => api.alerts({ deviceId: d.id, limit: 200 })))
    alerts = lists.flat()
  }
  const fetchCases = async () => {
    cases = (await api.cases({ site, limit: 1000 })).filter(
      (c) => (c.deviceId !== null && ids.has(c.deviceId)) || alerts.some((a) => a.id === c.alertId),
    )
  }
  await fetchAlerts()
  await fetchCases()

  const now = createNow(api, home.devices)
  const casesPart = createCases()
  const alertsPart = createAlerts({
    api,
    homeName: home.name,
    devices: home.devices,
    canWrite: writesClass(ctx.me, 'housing'),
    message,
    onEnded: ctx.onEnded,
    changed: () => refresh(),
  })
  const charts = createCharts({ api, devices: home.devices, message, onEnded: ctx.onEnded })
  ctx.root.append(intro, now.el, casesPart.el, alertsPart.el, charts.el)
  const render = () => {
    casesPart.render(cases)
    alertsPart.render(alerts, cases)
  }
  render()

  let refreshFailed = false
  const refresh = async (what: 'all' | 'cases' = 'all') => {
    try {
      if (what === 'all') await fetchAlerts()
      await fetchCases()
      render()
      // Fine again: the failure's words go (and only those: a notice of an action stays).
      if (refreshFailed) say(message, '')
      refreshFailed = false
    } catch (e) {
      if (endedBy(e, ctx.onEnded)) return
      refreshFailed = true
      say(message, `Could not refresh this home: ${failure(e)}`)
    }
  }
  let timer: ReturnType<typeof setTimeout> | undefined
  const soon = () => {
    clearTimeout(timer)
    timer = setTimeout(() => void refresh(), SETTLE_MS)
  }
  // Moving within the view (a link to a home) keeps the section, so the shell does not move focus: the page's heading takes it.
  heading.focus()
  const live = connectLive(ctx.credentials, { onEnded: ctx.onEnded, onBack: soon })
  const ours = (a: Alert) => ids.has(a.deviceId)
  live.socket.on('alert:raised', (a) => ours(a) && soon())
  live.socket.on('alert:cleared', (a) => ours(a) && soon())
  live.socket.on('alert:changed', (c) => ours(c.alert) && soon())
  live.socket.on('device:state', (s) => {
    if (applyState(home.devices, s)) now.render()
  })
  // A case opened or changed, by anyone: this home's (by its devices, or its estate's with no device) is fetched again.
  live.socket.on('case:changed', (c) => {
    if ((c.deviceId !== null && ids.has(c.deviceId)) || (c.deviceId === null && c.site === site)) void refresh('cases')
  })
  return {
    stop() {
      clearTimeout(timer)
      charts.stop()
      live.stop()
    },
  }
}
