import type { Logger } from 'pino'
import type { Registry } from '../store/registry.ts'
import { createDigestContent } from './digest-content.ts'
import { createDigestScheduler } from './digest-scheduler.ts'
import { createEmailChannel } from './email-channel.ts'
import { createEmailRouting } from './email-routing.ts'

/** Email's slice of the configuration (SMTP_URL, EMAIL_FROM, DIGEST_HOUR, HTTP_PUBLIC_URL). */
export interface EmailConfig {
  smtpUrl: string
  from: string
  digestHour: number
  publicUrl: string | null
}

/**
 * Email's parts for the outbox, on the store: the channel (nodemailer, one pooled transport), the
 * router of critical alerts, and the daily digest scheduler. The outbox starts and closes them.
 */
export function createEmailOutbox(deps: { registry: Registry; config: EmailConfig; log: Logger; wake(): void }) {
  const { registry, config } = deps
  const deviceName = async (id: string) => (await registry.devices.get(id))?.name
  const sitesByArea = () => registry.areas.sitesByArea()
  const prefs = (id: string) => registry.push.prefs(id)
  const channel = createEmailChannel({
    smtp: { url: config.smtpUrl, from: config.from },
    person: (id) => registry.people.get(id),
    prefs,
    alert: (id) => registry.alerts.get(id),
    deviceName,
    digest: createDigestContent({ alerts: registry.alerts, cases: registry.cases, sitesByArea, deviceName }),
    publicUrl: config.publicUrl,
  })
  const route = createEmailRouting({ people: () => registry.people.list(), prefs, sitesByArea })
  const scheduler = createDigestScheduler({
    hour: config.digestHour,
    people: () => registry.people.list(),
    prefs,
    enqueue: (d, at) => registry.outbox.enqueue(d, at),
    wake: deps.wake,
    log: deps.log.child({ part: 'digest-scheduler' }),
  })
  return {
    channel,
    route,
    start() {
      channel.start()
      scheduler.start()
    },
    /** Stops making digests; the transport is closed by closeTransport, after the sender has finished. */
    stopScheduling: () => scheduler.close(),
    closeTransport: () => channel.close(),
  }
}
export type EmailOutbox = ReturnType<typeof createEmailOutbox>
