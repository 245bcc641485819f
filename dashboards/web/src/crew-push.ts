import type { PushSubscriptionView } from '#devices'
import { type Api, ApiError } from './api.ts'

/** The VAPID key as PushManager wants it: the raw 65-byte point. */
function keyBytes(b64url: string): Uint8Array {
  const b64 = b64url.replace(/-/g, '+').replace(/_/g, '/')
  const bin = atob(b64 + '='.repeat((4 - (b64.length % 4)) % 4))
  return Uint8Array.from(bin, (c) => c.charCodeAt(0))
}

/**
 * "Send urgent alerts to this phone": registers the service worker, subscribes through the
 * browser's push service with the service's VAPID key, and stores the subscription for the person
 * signed in. Critical alerts in their areas then reach the phone with the page closed.
 */
export function phoneAlerts(api: Api, box: HTMLElement): { stop(): void } {
  const button = document.createElement('button')
  button.type = 'button'
  button.className = 'crew-push'
  const state = document.createElement('span')
  state.className = 'hint'
  state.setAttribute('role', 'status')
  box.replaceChildren(button, ' ', state)
  let stopped = false
  let current: PushSubscription | null = null

  const show = (sub: PushSubscription | null, text = '') => {
    current = sub
    button.textContent = sub ? 'Stop urgent alerts on this phone' : 'Send urgent alerts (such as bin fires) to this phone'
    state.textContent = text || (sub ? 'Urgent alerts in your areas come to this phone.' : '')
  }
  const unable = (text: string) => {
    button.hidden = true
    state.textContent = text
  }

  async function turnOn() {
    const { publicKey } = await api.get<{ publicKey: string }>('/api/push/key')
    if ((await Notification.requestPermission()) !== 'granted')
      return show(null, 'Notifications are blocked for this site: allow them in the browser settings, then try again.')
    const reg = await navigator.serviceWorker.register('/sw.js')
    await navigator.serviceWorker.ready
    const sub = await reg.pushManager.subscribe({ userVisibleOnly: true, applicationServerKey: keyBytes(publicKey) as BufferSource })
    await api.post<PushSubscriptionView>('/api/push/subscriptions', sub.toJSON())
    if (!stopped) show(sub)
  }
  async function turnOff(sub: PushSubscription) {
    await api.post('/api/push/unsubscribe', { endpoint: sub.endpoint })
    await sub.unsubscribe()
    if (!stopped) show(null, 'Urgent alerts no longer come to this phone.')
  }

  button.addEventListener('click', () => {
    button.disabled = true
    const sub = current
    ;(sub ? turnOff(sub) : turnOn())
      .catch((e: unknown) => {
        if (e instanceof ApiError && e.code === 'PUSH_OFF') unable('Phone alerts are not set up on this service.')
        else show(current, `That did not work: ${e instanceof Error ? e.message : String(e)}`)
      })
      .finally(() => {
        button.disabled = false
      })
  })

  if (!('serviceWorker' in navigator) || !('PushManager' in window) || !('Notification' in window)) {
    unable('This browser cannot receive alerts with the page closed.')
  } else {
    show(null)
    // Already subscribed on this phone: say so, rather than offer to subscribe again.
    void navigator.serviceWorker
      .getRegistration('/')
      .then((reg) => reg?.pushManager.getSubscription())
      .then((sub) => {
        if (!stopped && sub) show(sub)
      })
      .catch(() => {})
  }
  return {
    stop() {
      stopped = true
      box.replaceChildren()
    },
  }
}
