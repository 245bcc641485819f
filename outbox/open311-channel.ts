import { AlertEventData, coordinate, type Delivery, type Device, type SendOutcome } from '#devices'
import type { Open311Store } from '../store/open311-store.ts'
import { retryAfterMs } from './backoff.ts'
import type { Open311Client } from './open311-client.ts'

export interface Open311ChannelOptions {
  client: Pick<Open311Client, 'create'>
  store: Pick<Open311Store, 'forAlert' | 'submitted'>
  device(id: string): Promise<Device | null>
  /** Rule id → the endpoint's service code (OPEN311_SERVICE_CODES). */
  serviceCodes: Readonly<Record<string, string>>
  /** A request was made: the poller can look at it. */
  onSubmitted?(alertId: string): void
}

const LONDON = new Intl.DateTimeFormat('en-GB', {
  timeZone: 'Europe/London',
  dateStyle: 'long',
  timeStyle: 'short',
})

/** GeoReport's description: plain text, line breaks allowed, at most 4,000 characters. */
export function describeAlert(a: AlertEventData, device: Device | null): string {
  const where = device ? `${device.name} (site ${a.site})` : `device ${a.deviceId} (site ${a.site})`
  const lines = [
    `${a.title}: ${where}.`,
    `Raised by a smartplace sensor on ${LONDON.format(new Date(a.at))} (London time).`,
    a.value === null
      ? null
      : `Reading: ${a.deviceType === 'bin' && a.value >= 0 && a.value <= 1 ? `${Math.round(a.value * 100)} % full` : a.value}.`,
    `Alert ${a.alertId}, device ${a.deviceId}.`,
  ]
  return lines
    .filter((l): l is string => l !== null)
    .join('\n')
    .slice(0, 4000)
}

/**
 * The Open311 channel adapter (design D13): one service request per alert of a mapped rule.
 * A request already made for the alert (a retry after a crash between the answer and the
 * delivery's record, or a replay) is not made again. 2xx with an id or a token is delivered;
 * 5xx, 408, 429, a network error or an answer that is not GeoReport is retried; any other 4xx is
 * dead-lettered with the server's own message (the request itself is wrong and would stay wrong).
 */
export function createOpen311Channel(o: Open311ChannelOptions) {
  return {
    async send(d: Delivery, signal?: AbortSignal): Promise<SendOutcome> {
      const event = AlertEventData.safeParse((JSON.parse(d.payload) as { data?: unknown }).data)
      if (!event.success) return { kind: 'dead', error: 'not an alert event' }
      const a = event.data
      if (await o.store.forAlert(a.alertId)) return { kind: 'delivered', status: 200 }
      const code = o.serviceCodes[a.ruleId]
      if (!code) return { kind: 'dead', error: `rule ${a.ruleId} has no service code in OPEN311_SERVICE_CODES` }
      const device = await o.device(a.deviceId)
      const fields: Record<string, string> = {
        service_code: code,
        address_string: device ? `${device.name}, ${a.site}` : a.site,
        description: describeAlert(a, device),
        'attribute[smartplace_alert_id]': a.alertId,
        'attribute[device_id]': a.deviceId,
        'attribute[rule]': a.ruleId,
      }
      if (device?.latitude != null && device.longitude != null) {
        fields.lat = coordinate(device.latitude)
        fields.long = coordinate(device.longitude)
      }
      if (a.value !== null) fields['attribute[value]'] = String(a.value)
      const answer = await o.client.create(fields, signal)
      if (!answer.ok)
        return answer.retry
          ? { kind: 'retry', error: answer.error, afterMs: retryAfterMs(answer.retryAfter) }
          : { kind: 'dead', error: answer.error }
      const made = answer.value[0]!
      await o.store.submitted({
        alertId: a.alertId,
        serviceCode: code,
        serviceRequestId: made.service_request_id ?? null,
        token: made.token ?? null,
      })
      o.onSubmitted?.(a.alertId)
      return { kind: 'delivered', status: 201 }
    },
  }
}
export type Open311Channel = ReturnType<typeof createOpen311Channel>
