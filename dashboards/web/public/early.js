// Its own tiny script, run before the app's bundle has arrived or started: a phone that last landed on
// the crew's round asks for today's list at once. On a slow phone the bundle's download and start are
// half a second the list no longer waits for. main.ts takes the answer, or asks again if it failed.
// Plain JavaScript in public/, so Vite neither bundles it into the app nor renames it.
try {
  // As main.ts's LANDING_KEY and TOKEN_KEY; 50 is CREW_FIRST_PAGE (devices/crew-limits.ts), the rows drawn first.
  const crew = localStorage.getItem('smartplace.landing') === 'round' && ['', '#round'].includes(location.hash)
  if (crew && !sessionStorage.getItem('smartplace.token') && !new URLSearchParams(location.search).has('invitation')) {
    const list = fetch('/api/crew/today?limit=50', { credentials: 'same-origin' }).then((r) =>
      r.ok ? r.json() : Promise.reject(new Error(`HTTP ${r.status}`)),
    )
    list.catch(() => {})
    window.__spEarlyCrew = { at: Date.now(), list }
  }
} catch {
  // Storage refused (a locked-down browser): the app asks the usual way.
}
