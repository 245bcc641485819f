import type { Alert, DeviceState } from '#devices'

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

export function renderDeviceRow(row: HTMLTableRowElement, s: DeviceState) {
  row.replaceChildren(
    text('td', s.deviceId),
    text('td', s.type),
    text('td', s.site),
    text('td', s.presence, s.presence),
    text('td', summarise(s)),
    text('td', s.latest ? new Date(s.latest.ts).toLocaleTimeString('en-GB') : '—'),
  )
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
    b.addEventListener('click', () => onAck(a.id))
    children.push(b)
  }
  li.replaceChildren(...children)
}
