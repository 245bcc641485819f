/** Readings come in bursts: one fetch this long after the first event of a burst answers all of it. */
const SETTLE_MS = 1000
/** A reading reaches InfluxDB a little after its live event (the writer batches): ask once more when things go quiet. */
const AGAIN_MS = 5000

/**
 * Refetching on live events: at most once a second while events keep coming (a busy fleet never
 * starves the view), and once more five seconds after the last, when the store has surely caught up.
 */
export function refetchOnEvents(refresh: () => Promise<void>) {
  let first: ReturnType<typeof setTimeout> | undefined
  let again: ReturnType<typeof setTimeout> | undefined
  return {
    soon() {
      first ??= setTimeout(() => {
        first = undefined
        void refresh()
      }, SETTLE_MS)
      clearTimeout(again)
      again = setTimeout(() => void refresh(), AGAIN_MS)
    },
    stop() {
      clearTimeout(first)
      clearTimeout(again)
    },
  }
}
