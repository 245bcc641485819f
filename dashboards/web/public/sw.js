// The service worker of smartplace's crew view: shows a Web Push message as a notification, and a tap
// opens the alert it is about. It caches nothing; the page itself handles being offline.
self.addEventListener('push', (event) => {
  let m = {}
  try {
    m = event.data ? event.data.json() : {}
  } catch {
    m = { title: 'smartplace alert', body: event.data ? event.data.text() : '' }
  }
  event.waitUntil(
    self.registration.showNotification(m.title || 'smartplace alert', {
      body: m.body || '',
      tag: m.tag,
      data: { url: m.url || '/' },
      requireInteraction: true,
    }),
  )
})

self.addEventListener('notificationclick', (event) => {
  event.notification.close()
  const url = new URL(event.notification.data?.url || '/', self.location.origin).href
  event.waitUntil(
    self.clients.matchAll({ type: 'window', includeUncontrolled: true }).then((open) => {
      for (const c of open)
        if ('focus' in c) {
          c.navigate(url)
          return c.focus()
        }
      return self.clients.openWindow(url)
    }),
  )
})
