import type { FaultExplanation } from '#devices'
import type { DeviceWithState } from './api.ts'
import { when } from './crew-words.ts'
import { type HousingApi, latestOf } from './housing-data.ts'

const section = (title: string, id: string) => {
  const s = document.createElement('section')
  s.setAttribute('aria-labelledby', `${id}-h`)
  s.id = id
  const h = document.createElement('h3')
  h.id = `${id}-h`
  h.textContent = title
  s.append(h)
  return s
}

export { section }

const figureText = (d: DeviceWithState | undefined, field: string, unit: string, decimals: number) => {
  const l = latestOf(d, field)
  return l ? `${l.value.toFixed(decimals)} ${unit}` : 'No reading yet'
}

/**
 * The home now: boiler pressure and temperatures, room humidity, and the boiler's fault code
 * explained (what it means, and whether the resident can reset it or an engineer is needed).
 */
export function createNow(api: HousingApi, devices: readonly DeviceWithState[]) {
  const el = section('Now', 'home-now')
  const dl = document.createElement('dl')
  dl.className = 'now'
  const fault = section('Fault code', 'home-fault')
  const faultBody = document.createElement('div')
  faultBody.setAttribute('aria-live', 'polite')
  fault.append(faultBody)
  el.append(dl, fault)
  let shownCode: string | null | undefined

  const row = (key: string, label: string, value: string) => {
    const div = document.createElement('div')
    div.dataset.now = key
    const dt = document.createElement('dt')
    dt.textContent = label
    const dd = document.createElement('dd')
    dd.textContent = value
    div.append(dt, dd)
    return div
  }

  const render = () => {
    const rows: HTMLElement[] = []
    for (const d of devices) {
      const at = d.state.latest ? ` (reading at ${when(d.state.latest.ts)})` : ''
      if (d.type === 'boiler') {
        const r = d.state.latest?.readings
        rows.push(
          row('pressure', `Boiler pressure${at}`, figureText(d, 'pressureBar', 'bar', 2)),
          row('flow', 'Flow temperature', figureText(d, 'flowTemp', '°C', 1)),
          row('return', 'Return temperature', figureText(d, 'returnTemp', '°C', 1)),
          row('burner', 'Burner', r ? (r.burnerOn === true || r.burnerOn === 1 ? 'On' : 'Off') : 'No reading yet'),
          row(
            'lockout',
            'Locked out',
            r ? (r.lockout === true || r.lockout === 1 ? 'Yes: the boiler has shut itself down' : 'No') : 'No reading yet',
          ),
        )
      } else if (d.type === 'room') {
        rows.push(
          row(`humidity-${d.id}`, `${d.name}: humidity${at}`, figureText(d, 'humidity', '%', 0)),
          row(`temperature-${d.id}`, `${d.name}: temperature`, figureText(d, 'temperature', '°C', 1)),
        )
      }
    }
    dl.replaceChildren(...rows)
    const boiler = devices.find((d) => d.type === 'boiler')
    const code = boiler?.state.latest?.readings.faultCode
    const current = typeof code === 'string' && code !== '' ? code : null
    if (current !== shownCode) {
      shownCode = current
      void explain(current)
    }
  }

  const explain = async (code: string | null) => {
    if (code === null) {
      faultBody.replaceChildren(para('The boiler reports no fault code.'))
      return
    }
    try {
      const x = await api.get<FaultExplanation>(`/api/fault-codes/${encodeURIComponent(code)}`)
      if (shownCode === code) faultBody.replaceChildren(...explanation(code, x))
    } catch {
      faultBody.replaceChildren(para(`Fault code ${code}. Its explanation could not be loaded; try again shortly.`))
    }
  }
  render()
  return { el, render }
}

const para = (text: string, cls = '') => {
  const p = document.createElement('p')
  p.textContent = text
  if (cls) p.className = cls
  return p
}

const WHO = {
  resident: 'Resident can reset it: it is safe for the household to clear this once.',
  engineer: 'Engineer needed: book a Gas Safe registered engineer.',
} as const

function explanation(code: string, x: FaultExplanation): HTMLElement[] {
  if (x.status === 'unknown') return [para(`Fault code ${code}: ${x.meaning}`, 'fault-code'), para(x.advice)]
  const entries = x.status === 'known' ? [x.entry] : x.entries
  const out: HTMLElement[] = [
    para(
      x.status === 'known'
        ? `Fault code ${x.entry.display}: ${x.entry.kind === 'lockout' ? 'the boiler has stopped' : 'a warning; the boiler still runs'}.`
        : `Fault code ${code} means different things on different makes of boiler:`,
      'fault-code',
    ),
  ]
  for (const e of entries) {
    const div = document.createElement('div')
    div.className = `fault-entry cleared-by-${e.clearedBy}`
    div.dataset.clearedBy = e.clearedBy
    if (x.status === 'ambiguous') div.append(para(`On ${e.makers.join(', ')} boilers:`))
    div.append(para(e.meaning, 'fault-meaning'), para(WHO[e.clearedBy], 'fault-who'), para(e.advice))
    out.push(div)
  }
  return out
}
