/// <reference lib="webworker" />
import type { CrewToday } from '#devices'
import { ApiError, type Credentials, request } from './api.ts'

/** Bins per message: each message is read on the page's main thread in a task of its own, a short one. */
const SLICE = 200

export type ListAsk = { id: number; credentials: Credentials }
export type ListAnswer =
  | { id: number; bins: CrewToday['bins'] }
  | { id: number; done: Omit<CrewToday, 'bins'> }
  | { id: number; error: { status: number; code: string; message: string; hint: string; retryAfterS: number } | { message: string } }

/**
 * Fetches and parses a crew's whole list (2,000 bins are most of a megabyte of JSON) off the page's
 * main thread, where one JSON.parse of it is a long task on a slow phone, and hands it over in slices.
 */
self.onmessage = async (e: MessageEvent<ListAsk>) => {
  const { id, credentials } = e.data
  const post = (a: ListAnswer) => self.postMessage(a)
  try {
    const { bins, ...rest } = await request<CrewToday>('/api/crew/today', { credentials })
    for (let i = 0; i < bins.length; i += SLICE) post({ id, bins: bins.slice(i, i + SLICE) })
    post({ id, done: rest })
  } catch (err) {
    post({
      id,
      error:
        err instanceof ApiError
          ? { status: err.status, code: err.code, message: err.message, hint: err.hint, retryAfterS: err.retryAfterS }
          : { message: (err as Error).message ?? String(err) },
    })
  }
}
