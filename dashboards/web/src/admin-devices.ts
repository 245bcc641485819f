import type { Device, DeviceState } from '#devices'
import type { AdminPage } from './admin.ts'
import { provisionForm } from './admin-device-form.ts'
import { secretPanel } from './admin-device-secret.ts'
import { call, confirmStep, el, field, london } from './admin-dom.ts'
import type { DeviceWithState } from './api.ts'
import { connectLive } from './live.ts'
import { endedBy, failure, say } from './view.ts'

/** Enough rows to scan; a fleet of thousands is found with the search box instead. */
const SHOWN = 200
const PRESENCE = { online: '● Online', offline: '○ Offline', unknown: '? Not seen yet' } as const

function cell(label: string, ...content: (Node | string)[]) {
  return el('td', { attrs: { 'data-label': label } }, ...content)
}

/** Devices: the list (live presence), provisioning with the secret shown once, and revoking with a second step. */
export const startDevices: AdminPage = async (ctx, message) => {
  let devices: DeviceWithState[] = []
  const rowsOf = new Map<string, { presence: HTMLElement; seen: HTMLElement }>()
  const secretSpot = el('div')
  // Type titles from the server, so the catalogue (and its schema checks) stays out of the page.
  let types: { type: string; title: string }[] = []
  try {
    types = await call<{ type: string; title: string }[]>(ctx, '/api/rules')
  } catch (e) {
    if (endedBy(e, ctx.onEnded)) return { stop() {} }
    say(message, `The device types could not load: ${failure(e)}`)
  }
  const titles = new Map(types.map((t) => [t.type, t.title]))
  const form = provisionForm(ctx, types, (d) => {
    secretSpot.replaceChildren(secretPanel(d, () => form.querySelector('summary')?.focus()))
    secretSpot.querySelector('h3')?.focus()
    void load()
  })
  const listH = el('h3', { text: 'Devices', attrs: { id: 'admin-devices-h' } })
  const search = el('div', { className: 'admin-search' })
  const find = field(search, 'Find a device (name, id, site or type)', { type: 'search', autocomplete: 'off' })
  const count = el('p', { className: 'hint', attrs: { 'aria-live': 'polite' } })
  const body = el('tbody')
  const table = el(
    'table',
    { className: 'admin-table', attrs: { 'aria-labelledby': 'admin-devices-h' } },
    el(
      'thead',
      {},
      el(
        'tr',
        {},
        ...['Name', 'Type', 'Site', 'Presence', 'Last seen (London)', 'Action'].map((t) => el('th', { text: t, attrs: { scope: 'col' } })),
      ),
    ),
    body,
  )
  ctx.root.append(secretSpot, form, listH, search, count, table)

  const presenceText = (p: DeviceState['presence']) => PRESENCE[p]
  const render = () => {
    const q = find.value.trim().toLowerCase()
    const match = (d: Device) => !q || [d.name, d.id, d.site, d.type, titles.get(d.type) ?? ''].some((s) => s.toLowerCase().includes(q))
    const found = devices.filter(match)
    rowsOf.clear()
    body.replaceChildren(
      ...found.slice(0, SHOWN).map((d) => {
        const presence = el('span', { className: d.state.presence, text: presenceText(d.state.presence) })
        const seen = el('span', { text: london(d.state.lastSeen ?? d.lastSeen) })
        rowsOf.set(d.id, { presence, seen })
        const revoke = confirmStep(
          `Revoke: ${d.name}`,
          `Revoke ${d.name} (${d.id})? It is disconnected at once and can never connect again; its id stays reserved.`,
          `Yes, revoke: ${d.name}`,
          async () => {
            await call(ctx, `/api/devices/${encodeURIComponent(d.id)}`, 'DELETE')
            say(message, `${d.name} is revoked and disconnected.`, 'notice')
            await load()
            listH.tabIndex = -1
            listH.focus()
          },
        )
        return el(
          'tr',
          {},
          cell('Name', el('span', { text: d.name }), el('br'), el('span', { className: 'hint', text: d.id })),
          cell('Type', titles.get(d.type) ?? d.type),
          cell('Site', d.site),
          cell('Presence', presence),
          cell('Last seen', seen),
          cell('Action', revoke),
        )
      }),
    )
    count.textContent =
      found.length > SHOWN
        ? `Showing ${SHOWN} of ${found.length} devices: type in the search box to find one.`
        : `${found.length} ${found.length === 1 ? 'device' : 'devices'}${q ? ' found' : ''}.`
  }

  const load = async () => {
    try {
      devices = await call<DeviceWithState[]>(ctx, '/api/devices')
      render()
    } catch (e) {
      if (!endedBy(e, ctx.onEnded)) say(message, `The device list could not load: ${failure(e)}`)
    }
  }
  find.addEventListener('input', render)
  await load()

  // Presence changes as devices connect; a device not on the list (provisioned elsewhere since) brings the list up to date.
  let reloading: ReturnType<typeof setTimeout> | null = null
  const live = connectLive(ctx.credentials, { onEnded: ctx.onEnded, onBack: () => void load() })
  live.socket.on('device:state', (s) => {
    live.touch()
    const d = devices.find((x) => x.id === s.deviceId)
    if (!d) {
      reloading ??= setTimeout(() => {
        reloading = null
        void load()
      }, 500)
      return
    }
    d.state = s
    const row = rowsOf.get(s.deviceId)
    if (!row) return
    row.presence.className = s.presence
    row.presence.textContent = presenceText(s.presence)
    row.seen.textContent = london(s.lastSeen)
  })
  return {
    stop() {
      if (reloading) clearTimeout(reloading)
      live.stop()
    },
  }
}
