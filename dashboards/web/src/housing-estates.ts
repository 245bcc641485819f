import type { Alert, CaseView } from '#devices'
import { type Estate, type HousingApi, loadEstates } from './housing-data.ts'
import { DAMP_RULE, HOUSING_TYPES, isOpenCase } from './housing-words.ts'
import { connectLive } from './live.ts'
import { endedBy, failure, type StartedView, say, type ViewContext, viewHeader } from './view.ts'

/** Alert events come in bursts; one fetch answers a burst. */
const SETTLE_MS = 400

/** #homes: the estates the officer looks after, each with its homes, open alerts, damp risk and open cases. */
export async function startEstates(ctx: ViewContext, api: HousingApi): Promise<StartedView> {
  const { heading, message } = viewHeader(ctx.root, 'Estates')
  const intro = document.createElement('p')
  intro.textContent = 'The estates in your areas. Open one to see its homes.'
  const list = document.createElement('ul')
  list.className = 'estates'
  list.id = 'estates'
  ctx.root.append(intro, list)

  let estates: Estate[] = await loadEstates(api)
  let alerts: Alert[] = []
  let cases: CaseView[] = []

  const fetchAlerts = async () => {
    alerts = (await api.alerts({ status: 'open', limit: 1000 })).filter((a) => HOUSING_TYPES.has(a.deviceType))
  }
  const fetchCases = async () => {
    cases = (await api.cases({ limit: 1000 })).filter(isOpenCase)
  }
  await Promise.all([fetchAlerts(), fetchCases()])

  const render = () => {
    if (estates.length === 0) {
      const li = document.createElement('li')
      li.textContent = 'No homes with boilers or room sensors in your areas yet.'
      list.replaceChildren(li)
      return
    }
    list.replaceChildren(...estates.map((e) => estateItem(e, alerts, cases)))
  }
  render()

  const refresh = async (what: () => Promise<void>) => {
    try {
      await what()
      say(message, '')
      render()
    } catch (e) {
      if (!endedBy(e, ctx.onEnded)) say(message, `Could not refresh: ${failure(e)}`)
    }
  }
  let timer: ReturnType<typeof setTimeout> | undefined
  const soon = () => {
    clearTimeout(timer)
    timer = setTimeout(() => void refresh(fetchAlerts), SETTLE_MS)
  }
  const live = connectLive(ctx.credentials, {
    onEnded: ctx.onEnded,
    onBack: () =>
      void refresh(async () => {
        estates = await loadEstates(api)
        await Promise.all([fetchAlerts(), fetchCases()])
      }),
  })
  const onAlert = (a: Alert) => {
    if (HOUSING_TYPES.has(a.deviceType)) soon()
  }
  live.socket.on('alert:raised', onAlert)
  live.socket.on('alert:cleared', onAlert)
  live.socket.on('alert:changed', (c) => onAlert(c.alert))
  // Moving within the view (a link to a home) keeps the section, so the shell does not move focus: the page's heading takes it.
  heading.focus()
  live.socket.on('case:changed', () => void refresh(fetchCases))
  return {
    stop() {
      clearTimeout(timer)
      live.stop()
    },
  }
}

function estateItem(e: Estate, alerts: readonly Alert[], cases: readonly CaseView[]): HTMLLIElement {
  const ids = new Set(e.homes.flatMap((h) => h.devices.map((d) => d.id)))
  const open = alerts.filter((a) => ids.has(a.deviceId))
  const damp = e.homes.filter((h) => open.some((a) => a.ruleId === DAMP_RULE && h.devices.some((d) => d.id === a.deviceId)))
  const openCases = cases.filter((c) => c.site === e.site)
  const li = document.createElement('li')
  li.className = open.length > 0 ? 'estate has-alerts' : 'estate'
  li.dataset.site = e.site
  const h = document.createElement('h3')
  const a = document.createElement('a')
  a.href = `#homes/${encodeURIComponent(e.site)}`
  a.textContent = e.name
  h.append(a)
  const dl = document.createElement('dl')
  dl.className = 'counts'
  const pairs: [string, string, string][] = [
    ['homes', 'Homes', String(e.homes.length)],
    ['alerts', 'Open alerts', String(open.length)],
    ['damp', 'Homes at damp risk', String(damp.length)],
    ['cases', "Open Awaab's Law cases", String(openCases.length)],
  ]
  for (const [key, label, value] of pairs) {
    const div = document.createElement('div')
    div.dataset.count = key
    const dt = document.createElement('dt')
    dt.textContent = label
    const dd = document.createElement('dd')
    dd.textContent = value
    if (key !== 'homes' && value !== '0') div.className = 'attention'
    div.append(dt, dd)
    dl.append(div)
  }
  li.append(h, dl)
  return li
}
