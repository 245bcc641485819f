import type { Device, DeviceInput, DeviceType } from '#devices'
import { adminForm, call, el, field, selectField } from './admin-dom.ts'
import type { ViewContext } from './view.ts'

/**
 * The types installed in a home, which a UPRN ties to it. Written out (checked against every type)
 * rather than imported: the shared module's catalogue runs schema checks that the page's CSP reports.
 */
const IN_A_HOME: Record<DeviceType, boolean> = { bin: false, boiler: true, room: true, meter: false, weather: false }
const number = (s: string) => (s.trim() === '' ? null : Number(s))

/**
 * Provisioning, behind a disclosure so the list comes first. The answer carries the secret,
 * handed straight to `onProvisioned` and kept nowhere else.
 */
/** `types`: each device type and its title, as GET /api/rules lists them (the catalogue stays on the server). */
export function provisionForm(
  ctx: ViewContext,
  types: readonly { type: string; title: string }[],
  onProvisioned: (d: Device & { secret: string }) => void,
): HTMLDetailsElement {
  const details = el('details', { className: 'admin-disclosure' }, el('summary', { text: 'Provision a device' }))
  const { form, message, submit } = adminForm(ctx, 'Provision the device', async () => {
    const body: DeviceInput = {
      id: id.value.trim(),
      type: type.value as DeviceInput['type'],
      name: name.value.trim(),
      site: site.value.trim(),
      latitude: number(lat.value),
      longitude: number(long.value),
      uprn: housing() && uprn.value.trim() ? uprn.value.trim() : null,
    }
    const d = await call<Device & { secret: string }>(ctx, '/api/devices', 'POST', body)
    form.reset()
    showUprn()
    onProvisioned(d)
  })
  const id = field(
    form,
    'Device id',
    { required: '', autocomplete: 'off', spellcheck: 'false', pattern: '[a-z0-9][a-z0-9\\-]{0,63}' },
    'Lower-case letters, digits and hyphens, e.g. boiler-hawthorn-14. It cannot be reused, even after the device is revoked.',
  )
  const type = selectField(
    form,
    'Type',
    types.map((t) => [t.type, t.title] as const),
  )
  const name = field(form, 'Name or address', { required: '', maxlength: '120' }, 'What people will read, e.g. Boiler, 14 Hawthorn House.')
  const site = field(
    form,
    'Site',
    { required: '', autocomplete: 'off', spellcheck: 'false', pattern: '[a-z0-9][a-z0-9\\-]{0,63}' },
    'The estate, street or building it belongs to, e.g. hawthorn-estate; areas are made of sites.',
  )
  const place = el('div', { className: 'admin-row' })
  const lat = field(place, 'Latitude (optional)', { type: 'number', step: 'any', min: '-90', max: '90', inputmode: 'decimal' })
  const long = field(place, 'Longitude (optional)', { type: 'number', step: 'any', min: '-180', max: '180', inputmode: 'decimal' })
  form.append(place)
  const uprnBox = el('div')
  const uprn = field(
    uprnBox,
    'UPRN of the home',
    { inputmode: 'numeric', pattern: '[0-9]{1,12}', autocomplete: 'off' },
    'The Unique Property Reference Number, 1 to 12 digits: it ties the device to the home on the housing pages.',
  )
  form.append(uprnBox)
  // Only homes have a UPRN: the field shows for housing devices (boilers, room sensors).
  const housing = () => IN_A_HOME[type.value as DeviceType] ?? false
  const showUprn = () => {
    uprnBox.hidden = !housing()
  }
  type.addEventListener('change', showUprn)
  showUprn()
  form.append(submit, message)
  details.append(form)
  return details
}
