import type { Alert, DeviceState, Grant } from '#devices'

const text = (tag: string, content: string, cls?: string) => {
  const el = document.createElement(tag)
  el.textContent = content
  if (cls) el.className = cls
  return el
}

const summarise = (s: DeviceState) => {
  if (!s.latest) return '—'
  return Object.entries(s.latest.readings)
    .map(([k, v]) => `${k} ${typeof v === 'number' ? Math.round(v * 1000) / 1000 : v}`)
    .join(', ')
}

/** Column names, also shown beside each value where a narrow screen stacks the row. */
export const DEVICE_COLUMNS = ['Device', 'Type', 'Site', 'Presence', 'Latest', 'Time'] as const

export function renderDeviceRow(row: HTMLTableRowElement, s: DeviceState) {
  const cells = [
    text('td', s.deviceId),
    text('td', s.type),
    text('td', s.site),
    text('td', s.presence, s.presence),
    text('td', summarise(s)),
    text('td', s.latest ? new Date(s.latest.ts).toLocaleTimeString('en-GB') : '—'),
  ]
  cells.forEach((td, i) => {
    td.dataset.label = DEVICE_COLUMNS[i]
  })
  row.replaceChildren(...cells)
}

export function renderAlert(li: HTMLLIElement, a: Alert, onAck: (id: string) => void) {
  li.className = `${a.severity} ${a.status}`
  li.dataset.alertId = a.id
  li.dataset.status = a.status
  const children: Node[] = [
    text('strong', a.title),
    text('span', `${a.deviceId} (${a.site}) value ${a.value}`),
    text('time', new Date(a.raisedAt).toLocaleString('en-GB')),
    text('span', a.status, 'status'),
  ]
  if (a.assignedTo) children.push(text('span', `assigned to ${a.assignedTo}`, 'assignee'))
  if (a.snoozedUntil && Date.parse(a.snoozedUntil) > Date.now())
    children.push(text('span', `snoozed until ${new Date(a.snoozedUntil).toLocaleString('en-GB')}`, 'snoozed'))
  if (a.status === 'active') {
    const b = text('button', 'Acknowledge') as HTMLButtonElement
    b.type = 'button'
    // Several alerts can be open at once: the name says which one this button acts on, starting with what it shows.
    b.setAttribute('aria-label', `Acknowledge ${a.title} on ${a.deviceId}`)
    b.addEventListener('click', () => onAck(a.id))
    children.push(b)
  }
  li.replaceChildren(...children)
}

/** "crew in north-ward, estate-7; viewer in every area": what a person may do, in words. */
export function describeGrants(grants: readonly Grant[]): string {
  return grants
    .map((g) => (g.areas === null ? (g.role === 'admin' ? 'admin' : `${g.role} in every area`) : `${g.role} in ${g.areas.join(', ')}`))
    .join('; ')
}

/** Seconds as a person says them: "45 seconds", "3 minutes", "2 hours". */
export function inWords(seconds: number): string {
  const s = Math.max(1, Math.ceil(seconds))
  const plural = (n: number, unit: string) => `${n} ${unit}${n === 1 ? '' : 's'}`
  if (s < 120) return plural(s, 'second')
  if (s < 2 * 3600) return plural(Math.ceil(s / 60), 'minute')
  return plural(Math.ceil(s / 3600), 'hour')
}
