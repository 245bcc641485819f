import type { Logger } from 'pino'
import type { LiveBus } from '#devices'
import type { Registry } from '../store/registry.ts'
import type { BackoffPolicy } from './backoff.ts'
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
}

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
  const producer = createProducer({
    sources: registry.outbox.sources,
    store: registry.outbox,
    routes: () => registry.webhooks.routes(),
    sitesByArea: () => registry.areas.sitesByArea(),
    batch: 500,
    pollMs,
    gapWaitMs: 10_000,
    log: log.child({ part: 'outbox-producer' }),
    onDeliveries: () => sender.wake(),
  })
  const unsubscribe: (() => void)[] = []
  return {
    policy,
    start() {
      producer.start()
      sender.start()
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
    wake: () => sender.wake(),
    /** Stops producing at once; deliveries in flight get until `deadline`, the rest stay pending for the next start. */
    async close(deadline: number) {
      for (const u of unsubscribe.splice(0)) u()
      await producer.close()
      await sender.close(deadline)
    },
  }
}
export type Outbox = ReturnType<typeof createOutbox>
