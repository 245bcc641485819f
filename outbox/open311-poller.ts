import type { Logger } from 'pino'
import type { DueRequest, Open311Store, RequestUpdate } from '../store/open311-store.ts'
import type { Open311Client } from './open311-client.ts'

export interface Open311PollerOptions {
  client: Pick<Open311Client, 'token' | 'request'>
  store: Pick<Open311Store, 'toCheck' | 'checked'>
  /** How often the open requests are asked about (OPEN311_POLL_S). */
  pollMs: number
  /** Requests asked about per pass, longest unchecked first. */
  batch?: number
  log: Logger
  /** What an alert shows of its request changed. */
  onChange?(alertId: string): void
}

/** A closed request stays closed here; every other status word (FixMyStreet's extended ones too) is still open. */
const statusOf = (word: string) => (word === 'closed' ? 'closed' : 'open')

/**
 * Polls GET requests/{id}.json for every request not yet closed, and tokens/{token}.json for one
 * whose server gave a token first. Only the contractor closes a request: an alert resolved here
 * changes nothing there, and its request is still followed until the contractor closes it.
 */
export function createOpen311Poller(o: Open311PollerOptions) {
  let timer: NodeJS.Timeout | null = null
  let running: Promise<void> | null = null
  let stopped = true

  async function check(r: DueRequest): Promise<void> {
    let u: RequestUpdate | null = null
    if (r.serviceRequestId === null) {
      const token = await tokenOf(r)
      if (token === null) return
      u = token
    } else {
      const answer = await o.client.request(r.serviceRequestId)
      if (!answer.ok) {
        o.log.warn({ alert: r.alertId, request: r.serviceRequestId, error: answer.error }, 'open311 status not read')
        await o.store.checked(r.alertId, {})
        return
      }
      const s = answer.value[0]!
      u = {
        status: statusOf(s.status),
        statusNotes: s.status_notes ?? null,
        agencyResponsible: s.agency_responsible ?? null,
        updatedAt: s.updated_datetime ?? null,
      }
    }
    if (await o.store.checked(r.alertId, u)) o.onChange?.(r.alertId)
  }

  /** The id behind a token, or null when the server has none yet. */
  async function tokenOf(r: DueRequest): Promise<RequestUpdate | null> {
    if (!r.token) return null
    const answer = await o.client.token(r.token)
    const id = answer.ok ? answer.value.find((t) => t.service_request_id)?.service_request_id : undefined
    if (!id) {
      await o.store.checked(r.alertId, {})
      return null
    }
    return { serviceRequestId: id, status: 'open' }
  }

  async function pass() {
    const due = await o.store.toCheck(o.batch ?? 50)
    for (const r of due) {
      if (stopped) return
      try {
        await check(r)
      } catch (e) {
        o.log.warn({ alert: r.alertId, err: (e as Error).message }, 'open311 poll failed')
      }
    }
  }

  function schedule(ms: number) {
    if (stopped) return
    if (timer) clearTimeout(timer)
    timer = setTimeout(() => {
      running = pass()
        .catch((e: Error) => o.log.warn({ err: e.message }, 'open311 poll pass failed'))
        .finally(() => {
          running = null
          schedule(o.pollMs)
        })
    }, ms)
    timer.unref?.()
  }

  return {
    start() {
      stopped = false
      schedule(o.pollMs)
    },
    /** A request was just made: ask about it soon rather than a whole poll period later. */
    wake() {
      if (!running) schedule(0)
    },
    async close() {
      stopped = true
      if (timer) clearTimeout(timer)
      await running
    },
  }
}
