import type { Logger } from 'pino'
import type { LiveBus, RoutedEvent } from '#devices'
import type { Registry } from '../store/registry.ts'
import type { BackoffPolicy } from './backoff.ts'
import { createOpen311Channel } from './open311-channel.ts'
import { createOpen311Client, type Open311Endpoint } from './open311-client.ts'
import { createOpen311Poller } from './open311-poller.ts'
import { createProducer } from './producer.ts'
import { createSender } from './sender.ts'
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
}

/** Every Open311 request goes to one endpoint, in the order the alerts were raised. */
const OPEN311_TARGET = 'open311'

/**
 * The durable outbox (design D13): a producer that turns the store's histories into deliveries,
 * and one sender per channel. Nothing of it is on the ingest path: it reads what the alert
 * engine, the API and the collection recorder already committed.
 */
export function createOutbox(deps: { registry: Registry; bus: LiveBus; log: Logger; config: OutboxConfig }) {
  const { registry, log, config } = deps
  const policy: TargetPolicy = createTargetPolicy(config.allowHosts)
  const pollMs = config.pollMs ?? 1000
  const webhook = createWebhookChannel({ webhooks: registry.webhooks, policy, timeoutMs: config.webhookTimeoutMs })
  const sender = createSender({
    channel: 'webhook',
    store: registry.outbox,
    send: (d, signal) => webhook.send(d, signal),
    backoff: config.backoff,
    concurrency: config.concurrency,
    pollMs,
    log: log.child({ part: 'webhook-sender' }),
  })
  const senders = [sender]

  // Open311 out: a service request for each alert raised by a rule that has a service code.
  let poller: ReturnType<typeof createOpen311Poller> | null = null
  let configured: ((e: RoutedEvent) => { channel: 'open311'; target: string }[]) | undefined
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
    senders.push(
      createSender({
        channel: 'open311',
        store: registry.outbox,
        send: (d, signal) => channel.send(d, signal),
        backoff: config.backoff,
        concurrency: 1,
        pollMs,
        log: log.child({ part: 'open311-sender' }),
      }),
    )
    configured = (e) =>
      e.type === 'alert.raised' && e.ruleId !== null && o311.serviceCodes[e.ruleId] ? [{ channel: 'open311', target: OPEN311_TARGET }] : []
  }

  const producer = createProducer({
    sources: registry.outbox.sources,
    store: registry.outbox,
    routes: () => registry.webhooks.routes(),
    sitesByArea: () => registry.areas.sitesByArea(),
    configured,
    batch: 500,
    pollMs,
    gapWaitMs: 10_000,
    log: log.child({ part: 'outbox-producer' }),
    onDeliveries: () => {
      for (const s of senders) s.wake()
    },
  })
  const unsubscribe: (() => void)[] = []
  return {
    policy,
    start() {
      producer.start()
      for (const s of senders) s.start()
      poller?.start()
      // The bus says something was committed: look now instead of at the next poll.
      const poke = () => producer.poke()
      unsubscribe.push(
        deps.bus.on('alert:raised', poke, 'outbox'),
        deps.bus.on('alert:cleared', poke, 'outbox'),
        deps.bus.on('alert:changed', poke, 'outbox'),
        deps.bus.on('case:changed', poke, 'outbox'),
        deps.bus.on('collection:recorded', poke, 'outbox'),
      )
    },
    /** A delivery was replayed or a subscription changed: the sender looks now. */
    wake: () => {
      for (const s of senders) s.wake()
    },
    /** Stops producing at once; deliveries in flight get until `deadline`, the rest stay pending for the next start. */
    async close(deadline: number) {
      for (const u of unsubscribe.splice(0)) u()
      await producer.close()
      await poller?.close()
      await Promise.all(senders.map((s) => s.close(deadline)))
    },
  }
}
export type Outbox = ReturnType<typeof createOutbox>
