import type { CrewBin } from '#devices'
import { bandOf, collectedRecently, fillText, forecastText, isUrgent, when } from './crew-words.ts'

const el = <K extends keyof HTMLElementTagNameMap>(tag: K, text: string, cls?: string) => {
  const e = document.createElement(tag)
  e.textContent = text
  if (cls) e.className = cls
  return e
}

export interface CrewRow {
  li: HTMLLIElement
  /** Kept across renders, so a button that has focus keeps it when the list is fetched again. */
  button: HTMLButtonElement
  status: HTMLParagraphElement
  bin: CrewBin
  /** A mark is on its way: the button stays disabled through live re-renders. */
  sending: boolean
  /** The bin as last drawn, and when: the same bin fetched again is not drawn again. */
  drawn: CrewBin
  drawnAt: number
}

/** Its words depend on the time too ("Full by 14:30" becomes "Full now"): redrawn at least this often. */
const STALE_MS = 60_000

/** One row of today's list: name, fill, alerts, forecast, and the button that marks it collected. */
export function createRow(bin: CrewBin, onCollect: (row: CrewRow) => void): CrewRow {
  const li = document.createElement('li')
  li.dataset.deviceId = bin.id
  const button = el('button', '', 'collect')
  button.type = 'button'
  const status = el('p', '', 'bin-status')
  // Focus lands here once the row is marked, so the result is read out where the button was.
  status.tabIndex = -1
  const row: CrewRow = { li, button, status, bin, sending: false, drawn: bin, drawnAt: 0 }
  button.addEventListener('click', () => onCollect(row))
  renderRow(row, bin)
  return row
}

/**
 * A row from a list fetched again: drawn only if its bin changed (or its words may have aged). The whole
 * list, fetched after its top, repeats the rows already drawn, and fifty rows' DOM built again for nothing
 * is tens of milliseconds of a slow phone's main thread. Live changes call `renderRow`, which always draws.
 */
export function refreshRow(row: CrewRow, bin: CrewBin, now = Date.now()) {
  if (now - row.drawnAt < STALE_MS && JSON.stringify(bin) === JSON.stringify(row.drawn)) {
    row.bin = bin
    return
  }
  renderRow(row, bin, now)
}

export function renderRow(row: CrewRow, bin: CrewBin, now = Date.now()) {
  row.bin = bin
  row.drawn = bin
  row.drawnAt = now
  const band = bandOf(bin.fill)
  const urgent = isUrgent(bin)
  row.li.className = `bin band-${band.id}${urgent ? ' urgent' : ''}`
  row.li.dataset.fill = bin.fill === null ? '' : String(bin.fill)

  const top = el('div', '', 'bin-top')
  const swatch = el('span', '', 'swatch')
  swatch.setAttribute('aria-hidden', 'true')
  swatch.style.background = band.colour
  const fill = el('span', '', 'bin-fill')
  fill.append(swatch, fillText(bin))
  top.append(el('strong', bin.name, 'bin-name'), fill)

  const parts: HTMLElement[] = [top]
  if (bin.alerts.length > 0) {
    const alerts = el('ul', '', 'bin-alerts')
    for (const a of bin.alerts) {
      const item = el('li', `Alert: ${a.title}`, `bin-alert alert-${a.severity}`)
      item.dataset.ruleId = a.ruleId
      alerts.append(item)
    }
    parts.push(alerts)
  }
  parts.push(el('p', forecastText(bin, now), 'bin-forecast'))
  if (bin.stop) parts.push(el('p', `Stop ${bin.stop.number} of ${bin.stop.of} on ${bin.stop.round}`, 'bin-stop'))

  row.button.textContent = `Collected: ${bin.name}`
  row.button.disabled = row.sending
  row.status.textContent = bin.collectedAt === null ? '' : `Collected at ${when(bin.collectedAt, now)}`
  row.status.hidden = bin.collectedAt === null
  parts.push(row.status)
  // Within the hour a second mark would count once anyway: the row says it is done instead.
  if (!collectedRecently(bin, now)) parts.push(row.button)
  // Moving an element out and back drops its focus: put it back where it was.
  const focused = row.li.contains(document.activeElement) ? (document.activeElement as HTMLElement) : null
  row.li.replaceChildren(...parts)
  if (focused && row.li.contains(focused)) focused.focus()
  row.li.dataset.collected = bin.collectedAt === null ? 'false' : 'true'
}
