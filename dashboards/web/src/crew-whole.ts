import type { CrewBin, CrewToday } from '#devices'
import { type Api, ApiError, type Credentials } from './api.ts'
import type { ListAnswer, ListAsk } from './crew-list-worker.ts'

/**
 * The crew's whole list, fetched and parsed by a worker (crew-list-worker.ts) so the page's main
 * thread only ever takes it a slice at a time; the same call on the main thread if the worker cannot
 * start. Errors are the ones `api.crewToday()` throws, so callers tell signed out from unreachable.
 */
export function wholeList(api: Api, credentials: Credentials) {
  let worker: Worker | null | undefined
  let next = 0
  const waiting = new Map<number, { bins: CrewBin[]; resolve(t: CrewToday): void; reject(e: unknown): void }>()

  const start = (): Worker | null => {
    try {
      const w = new Worker(new URL('./crew-list-worker.ts', import.meta.url), { type: 'module', name: 'crew-list' })
      w.onmessage = (e: MessageEvent<ListAnswer>) => {
        const a = e.data
        const ask = waiting.get(a.id)
        if (!ask) return
        if ('bins' in a) {
          for (const b of a.bins) ask.bins.push(b)
          return
        }
        waiting.delete(a.id)
        if ('done' in a) ask.resolve({ ...a.done, bins: ask.bins })
        else if ('status' in a.error) {
          const x = a.error
          ask.reject(new ApiError(x.status, x.code, x.message, x.hint, x.retryAfterS))
        } else ask.reject(new Error(a.error.message))
      }
      // Its script did not load (or it died): what was asked of it is asked the usual way.
      w.onerror = () => {
        worker = null
        w.terminate()
        for (const [id, ask] of waiting) {
          waiting.delete(id)
          api.crewToday().then(ask.resolve, ask.reject)
        }
      }
      return w
    } catch {
      return null
    }
  }

  return {
    fetch(): Promise<CrewToday> {
      if (worker === undefined) worker = start()
      if (!worker) return api.crewToday()
      const id = ++next
      const w = worker
      return new Promise<CrewToday>((resolve, reject) => {
        waiting.set(id, { bins: [], resolve, reject })
        w.postMessage({ id, credentials } satisfies ListAsk)
      })
    },
    stop() {
      worker?.terminate()
      worker = null
      waiting.clear()
    },
  }
}
