import QRCode from 'qrcode'
import type { Device } from '#devices'
import { button, el, field, nextId, onceBox } from './admin-dom.ts'

const DEFAULT_MQTT_PORT = '1883'

/**
 * What a fitter's device needs to connect, as JSON in the QR code: the broker, its client id and
 * username (both the device id), its secret as password, and the topic it publishes to. The web
 * app cannot know the broker's public address, so the admin checks it (this page's host by default).
 */
const fittingDetails = (d: Pick<Device, 'id' | 'type' | 'site'>, secret: string, host: string, port: number) =>
  JSON.stringify({
    host,
    port,
    clientId: d.id,
    username: d.id,
    password: secret,
    topic: `sp/v1/${d.site}/${d.type}/${d.id}/telemetry`,
  })

/**
 * The secret of a device just provisioned, shown once with its QR code. Only this panel holds it;
 * "Hide" (or leaving the page) drops it, and the server keeps only its HMAC.
 */
export function secretPanel(d: Device & { secret: string }, onDone: () => void): HTMLElement {
  const h = el('h3', { text: `Secret for ${d.name}: shown once` })
  h.id = nextId('secret-h')
  h.tabIndex = -1
  const panel = el('section', { className: 'admin-secret', attrs: { 'aria-labelledby': h.id } }, h)
  panel.append(
    el('p', {
      className: 'admin-warning',
      text: '⚠ Copy the secret or scan the QR code now. It will not be shown again: if it is lost, revoke the device and provision it again under a new id.',
    }),
  )
  onceBox(panel, `Secret for ${d.id}`, d.secret, `Copy secret: ${d.name}`)
  panel.append(
    el('p', {
      text: `The device connects with client id and username ${d.id}, this secret as password, and publishes to sp/v1/${d.site}/${d.type}/${d.id}/telemetry.`,
    }),
  )

  const broker = el('div', { className: 'admin-row' })
  const host = field(broker, 'Broker host for the QR code', { autocomplete: 'off', spellcheck: 'false' })
  host.value = location.hostname
  const port = field(broker, 'Broker port', { type: 'number', min: '1', max: '65535', inputmode: 'numeric' })
  port.value = DEFAULT_MQTT_PORT
  panel.append(broker)

  const canvas = el('canvas', { attrs: { role: 'img', 'aria-label': `QR code with the connection details for ${d.name}` } })
  const qrNote = el('p', { className: 'hint', attrs: { 'aria-live': 'polite' } })
  const draw = () => {
    const p = Number(port.value)
    const text = fittingDetails(d, d.secret, host.value.trim() || location.hostname, Number.isInteger(p) && p > 0 ? p : 1883)
    QRCode.toCanvas(canvas, text, { width: 240, margin: 2, errorCorrectionLevel: 'M' })
      .then(() => {
        qrNote.textContent = `Scan with the fitting app: it holds the broker ${host.value}:${port.value}, the client id, username, secret and topic.`
      })
      .catch(() => {
        qrNote.textContent = 'The QR code could not be drawn; copy the secret instead.'
      })
  }
  host.addEventListener('change', draw)
  port.addEventListener('change', draw)
  panel.append(el('div', { className: 'admin-qr' }, canvas), qrNote)
  draw()

  panel.append(
    button(`I have noted it: hide the secret for ${d.name}`, () => {
      panel.remove()
      onDone()
    }),
  )
  return panel
}
