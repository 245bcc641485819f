// Readings are counted in InfluxDB itself: what a path acknowledged only counts once it is there.
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms))

export async function countReadings(influxUrl: string, db: string): Promise<number> {
  const res = await fetch(`${influxUrl}/query?${new URLSearchParams({ db, q: 'SELECT count("fillingLevel") FROM "bin"' })}`)
  const body = (await res.json()) as { results: { series?: { values: number[][] }[] }[] }
  return body.results[0]?.series?.[0]?.values[0]?.[1] ?? 0
}

/**
 * Waits until `target` points are in, or the count has not grown for `stallMs` (a path that
 * lost readings never gets there), or the timeout. Returns the count and when it last grew.
 */
export async function settle(influxUrl: string, db: string, target: number, timeoutMs = 60_000, stallMs = 5_000) {
  const deadline = Date.now() + timeoutMs
  let n = await countReadings(influxUrl, db)
  let grewAt = Date.now()
  while (n < target && Date.now() < deadline && Date.now() - grewAt < stallMs) {
    await sleep(50)
    const m = await countReadings(influxUrl, db)
    if (m > n) grewAt = Date.now()
    n = m
  }
  return { n, at: n >= target ? Date.now() : grewAt }
}
