import { connectLive, type LiveSocket } from './live.ts'
import { endedBy, failure, say, type ViewContext } from './view.ts'

/** Readings come in bursts: one fetch this long after the first event of a burst answers all of it. */
const SETTLE_MS = 1000
/** A reading reaches InfluxDB a little after its live event (the writer batches): ask once more when things go quiet. */
const AGAIN_MS = 5000

/**
 * Refetching on live events: at most once a second while events keep coming (a busy fleet never
 * starves the view), and once more five seconds after the last, when the store has surely caught up.
 */
function refetchOnEvents(refresh: () => Promise<void>) {
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

/**
 * A page's figures kept current: `load` again when `watch` (given the socket) hears something about
 * them, paced by refetchOnEvents, and after a reconnect. A failed refresh says so in `message` and
 * clears once one works. `stop` ends the connection and the timers.
 */
export function liveFigures(
  ctx: ViewContext,
  message: HTMLElement,
  load: () => Promise<void>,
  watch: (socket: LiveSocket, soon: () => void) => void,
): { stop(): void } {
  const refresh = async () => {
    try {
      await load()
      say(message, '')
    } catch (e) {
      if (!endedBy(e, ctx.onEnded)) say(message, `Could not refresh: ${failure(e)}`)
    }
  }
  const events = refetchOnEvents(refresh)
  const live = connectLive(ctx.credentials, { onEnded: ctx.onEnded, onBack: events.soon })
  watch(live.socket, events.soon)
  return {
    stop() {
      events.stop()
      live.stop()
    },
  }
}
