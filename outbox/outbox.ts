import type { Logger } from 'pino'
import type { OutboxChannel, RoutedEvent } from '#devices'
import type { Registry } from '../store/registry.ts'
import type { BackoffPolicy } from './backoff.ts'
import { COMMIT_EVENTS, type CommitPokes } from './commit-events.ts'
import { createEmailOutbox, type EmailConfig } from './email-outbox.ts'
import { closeConnections } from './http-post.ts'
import { createOpen311Channel } from './open311-channel.ts'
import { createOpen311Client, type Open311Endpoint } from './open311-client.ts'
import { createOpen311Poller } from './open311-poller.ts'
import { createProducer } from './producer.ts'
import { createPushChannel } from './push-channel.ts'
import { createPushRouting } from './push-routing.ts'
import { createSender, type Sender } from './sender.ts'
import { createTargetPolicy, type TargetPolicy } from './ssrf.ts'
import { createWebhookChannel } from './webhook-channel.ts'

export interface OutboxConfig {
  backoff: BackoffPolicy
  concurrency: number
  webhookTimeoutMs: number
  /** Host names and addresses webhooks may reach although private or loopback (WEBHOOK_ALLOW_HOSTS). */
  allowHosts: readonly string[]
  pollMs?: number
  /** The contractor's GeoReport v2 endpoint (OPEN311_*); null when none is configured. */
  open311: (Open311Endpoint & { serviceCodes: Readonly<Record<string, string>>; pollMs: number }) | null
  /** Web Push's contact for push services (VAPID_SUBJECT); null, no push. */
  vapidSubject: string | null
  /** Email (SMTP_URL, EMAIL_FROM, DIGEST_HOUR); null or absent, no email. */
  email?: EmailConfig | null
  /** Cluster mode: the epoch of this node's lease on the outbox; every attempt is fenced with it (sender.ts). */
  fence?: number | undefined
}

/** The fence (store/reader-fences.ts) of the node that runs the outbox. */
export const OUTBOX_FENCE = 'outbox'

/**
 * Fenced, each attempt in flight holds a database connection: at most 16 per channel then, so that
 * the thread's pool (connectionsFor) and the cluster's PostgreSQL are not run out of connections.
 */
export const fencedConcurrency = (c: Pick<OutboxConfig, 'concurrency' | 'fence'>) =>
  c.fence === undefined ? c.concurrency : Math.min(c.concurrency, 16)

/** The thread's pool when fenced: one connection per attempt that may be in flight (three channels of them), and some to spare. */
export const connectionsFor = (c: Pick<OutboxConfig, 'concurrency' | 'fence'>) =>
  c.fence === undefined ? undefined : fencedConcurrency(c) * 3 + 6

/** Every Open311 request goes to one endpoint, in the order the alerts were raised. */
const OPEN311_TARGET = 'open311'

type Route = { channel: OutboxChannel; target: string }

/**
 * The durable outbox (design D13): a producer that turns the store's histories into deliveries,
 * and one sender per channel. Nothing of it is on the ingest path: it reads what the alert
 * engine, the API and the collection recorder already committed.
 */
export function createOutbox(deps: { registry: Registry; bus: CommitPokes; log: Logger; config: OutboxConfig }) {
  const { registry, log, config } = deps
  const policy: TargetPolicy = createTargetPolicy(config.allowHosts)
  const pollMs = config.pollMs ?? 1000
  const senders: Sender[] = []
  const routers: ((e: RoutedEvent) => Promise<Route[]>)[] = []
  const sender = (channel: OutboxChannel, send: Parameters<typeof createSender>[0]['send'], concurrency = fencedConcurrency(config)) =>
    senders.push(
      createSender({
        channel,
        store: registry.outbox,
        send,
        backoff: config.backoff,
        concurrency,
        pollMs,
        idsCommitInOrder: registry.dialect === 'sqlite',
        fence: config.fence === undefined ? undefined : { reader: OUTBOX_FENCE, epoch: config.fence },
        log: log.child({ part: `${channel}-sender` }),
      }),
    )

  const webhook = createWebhookChannel({ webhooks: registry.webhooks, policy, timeoutMs: config.webhookTimeoutMs })
  sender('webhook', (d, signal) => webhook.send(d, signal))

  // Open311 out: a service request for each alert raised by a rule that has a service code.
  let poller: ReturnType<typeof createOpen311Poller> | null = null
  if (config.open311) {
    const o311 = config.open311
    const client = createOpen311Client(o311, policy)
    const p = createOpen311Poller({
      client,
      store: registry.open311,
      pollMs: o311.pollMs,
      log: log.child({ part: 'open311-poller' }),
      onChange: (alertId) => log.info({ alert: alertId }, 'open311 request status changed'),
    })
    poller = p
    const channel = createOpen311Channel({
      client,
      store: registry.open311,
      device: (id) => registry.devices.get(id),
      serviceCodes: o311.serviceCodes,
      onSubmitted: () => p.wake(),
    })
    sender('open311', (d, signal) => channel.send(d, signal), 1)
    routers.push(async (e) =>
      e.type === 'alert.raised' && e.ruleId !== null && o311.serviceCodes[e.ruleId] ? [{ channel: 'open311', target: OPEN311_TARGET }] : [],
    )
  }

  // Web Push: critical alerts to the phones of the people who may see them.
  if (config.vapidSubject) {
    const push = createPushChannel({
      push: registry.push,
      alert: (id) => registry.alerts.get(id),
      deviceName: async (id) => (await registry.devices.get(id))?.name,
      vapidKeys: () => registry.vapidKeys(),
      subject: config.vapidSubject,
      policy,
      timeoutMs: config.webhookTimeoutMs,
    })
    sender('webpush', (d, signal) => push.send(d, signal))
    routers.push(
      createPushRouting({ push: registry.push, person: (id) => registry.people.get(id), sitesByArea: () => registry.areas.sitesByArea() }),
    )
  }

  // Email: critical alerts at once and a daily digest, to the people who chose them.
  const email = config.email
    ? createEmailOutbox({ registry, config: config.email, log: log.child({ part: 'email' }), wake: () => wakeAll() })
    : null
  if (email) {
    sender('email', (d, signal) => email.channel.send(d, signal))
    routers.push(email.route)
  }

  // New deliveries: each sender reads those after the last it saw.
  const wakeAll = () => {
    for (const s of senders) s.wake()
  }
  const producer = createProducer({
    sources: registry.outbox.sources,
    store: registry.outbox,
    routes: () => registry.webhooks.routes(),
    sitesByArea: () => registry.areas.sitesByArea(),
    configured: async (e) => (await Promise.all(routers.map((r) => r(e)))).flat(),
    batch: 500,
    pollMs,
    gapWaitMs: 10_000,
    log: log.child({ part: 'outbox-producer' }),
    onDeliveries: wakeAll,
  })
  const unsubscribe: (() => void)[] = []
  return {
    policy,
    start() {
      // The email transport first: a sender's first pass may come before the rest is started.
      email?.start()
      producer.start()
      for (const s of senders) s.start()
      poller?.start()
      // The bus says something was committed: look now instead of at the next poll.
      const poke = () => producer.poke()
      for (const e of COMMIT_EVENTS) unsubscribe.push(deps.bus.on(e, poke, 'outbox'))
    },
    /** A delivery was replayed or a subscription changed: the senders read their whole index again, now. */
    wake() {
      webhook.forget()
      for (const s of senders) s.resync()
    },
    /** Stops producing at once; deliveries in flight get until `deadline`, the rest stay pending for the next start. */
    async close(deadline: number) {
      for (const u of unsubscribe.splice(0)) u()
      await producer.close()
      await poller?.close()
      await email?.stopScheduling()
      await Promise.all(senders.map((s) => s.close(deadline)))
      email?.closeTransport()
      closeConnections()
    },
  }
}
export type Outbox = ReturnType<typeof createOutbox>
