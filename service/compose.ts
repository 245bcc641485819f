import { join } from 'node:path'
import type { Logger } from 'pino'
import type { Registry as MetricsRegistry } from 'prom-client'
import { deviceTypeOf, type LiveBus, type LogRecord, type QuarantineRecord, type Rule } from '#devices'
import { ALERT_READER, type AlertEngine, createAlertEngine, type EngineDevice } from '../alerts/engine.ts'
import { createRuleBook } from '../alerts/rule-book.ts'
import { createBroker } from '../broker/broker.ts'
import { brokerMetrics } from '../broker/metrics.ts'
import { type AlertEngines, createEngineRouter } from '../cluster/engine-router.ts'
import { clusterMetrics } from '../cluster/metrics.ts'
import type { PartitionReaders } from '../cluster/partition-readers.ts'
import { createClusterOutlooks } from '../cluster/remote-outlooks.ts'
import { COLLECTION_READER, createCollectionRecorder } from '../collections/recorder.ts'
import { createScheduleBook } from '../collections/schedule-book.ts'
import { buildApp } from '../dashboards/app.ts'
import { createChangeClock, writtenSpans } from '../dashboards/open-data/change-clock.ts'
import { createInfluxClient } from '../influx/client.ts'
import { createLegacySpoolDrain } from '../influx/legacy-spool.ts'
import { createInfluxQuery } from '../influx/query.ts'
import { ensureDatabase } from '../influx/schema.ts'
import { createInfluxWriter } from '../influx/writer.ts'
import { createIngest } from '../ingest/ingest.ts'
import { createLiveState } from '../ingest/live-state.ts'
import type { IngestMetrics } from '../ingest/metrics.ts'
import { createTtsIngest } from '../ingest/tts-ingest.ts'
import { ttsMetrics } from '../ingest/tts-metrics.ts'
import { createTtsMqtt } from '../ingest/tts-mqtt.ts'
import { checkpointFile } from '../log/checkpoint-file.ts'
import { createLog } from '../log/log.ts'
import { logMetrics } from '../log/metrics.ts'
import type { DurableLog } from '../log/port.ts'
import { createReader, type ReaderHandler } from '../log/reader.ts'
import type { Position } from '../log/segments.ts'
import type { StreamLog } from '../log/stream-log.ts'
import type { StreamReader } from '../log/stream-reader.ts'
import { createOutboxThread } from '../outbox/thread.ts'
import { createQuarantineKeeper, QUARANTINE_READER } from '../quarantine/keeper.ts'
import { createRevocationWatch } from '../registry/revocation-watch.ts'
import { openRegistry } from '../store/registry.ts'
import { clusterCrossing, clusterLog, clusterOf, clusterOutbox, clusterReaders } from './cluster-wiring.ts'
import type { ServiceConfig } from './config.ts'
import { clusterHealth, readiness } from './readiness.ts'

/**
 * Wires the parts of the all-in-one service (design §2, §5). Opening the store is
 * the only I/O here: the service calls this from its start(), and starts the parts
 * it returns in order.
 */
export async function compose(
  config: ServiceConfig & { INFLUX_URL: string },
  log: Logger,
  webRoot: string | null,
  shared: { metrics: MetricsRegistry; im: IngestMetrics; bus: LiveBus },
) {
  const { metrics, im, bus } = shared
  const registry = await openRegistry({
    dataDir: config.DATA_DIR,
    databaseUrl: config.DATABASE_URL,
    databasePasswordFile: config.DATABASE_PASSWORD_FILE,
    serverKeyFile: config.SERVER_KEY_FILE,
    onPoolError: (e) => log.error({ err: e.message }, 'database connection lost; it is reopened on the next query'),
    adminToken: config.ADMIN_TOKEN,
    quarantineMax: config.QUARANTINE_MAX_ENTRIES,
    quarantineMaxAgeMs: config.QUARANTINE_MAX_AGE_DAYS * 86_400_000,
  })
  const influxCfg = { url: config.INFLUX_URL, db: config.INFLUX_DB, token: config.INFLUX_TOKEN }
  const influx = createInfluxQuery(influxCfg)
  const ensureDb = () => ensureDatabase(influxCfg, (msg, detail) => log.warn(detail, msg))

  const logDir = join(config.DATA_DIR, 'log')
  let lm: ReturnType<typeof logMetrics> | null = null
  // Cluster mode (issue 15): the log is a replicated stream and each node reads the partitions it holds.
  const cluster = clusterOf(config)
  const stream: StreamLog | null = cluster ? clusterLog(config, cluster, log.child({ module: 'log' }), (code) => lm?.refused(code)) : null
  const live = createLiveState(bus, { presenceFromStore: cluster !== null })
  const fileLog = createLog(
    {
      dir: logDir,
      fsync: config.SPOOL_FSYNC === 'on',
      commitDelayMs: config.SPOOL_COMMIT_MS,
      segmentBytes: config.SPOOL_SEGMENT_MB * 1024 * 1024,
      maxBytes: config.SPOOL_MAX_MB * 1024 * 1024,
      minFreeBytes: config.DATA_MIN_FREE_MB * 1024 * 1024,
    },
    log.child({ module: 'log' }),
    (code) => lm?.refused(code),
  )
  const durable: DurableLog = stream ?? fileLog
  const readerLog = log.child({ module: 'reader' })
  const reader = (name: string, handler: ReaderHandler, kinds: LogRecord['kind'][], maxRecords: number, idleMs = 0) =>
    createReader({
      name,
      kinds,
      log: fileLog,
      handler,
      logger: readerLog,
      maxRecords,
      idleMs,
      onDamage: () => lm?.damage(name),
      onFailure: () => lm?.failure(name),
    })
  const influxClient = createInfluxClient({ ...influxCfg, rp: config.INFLUX_RP })
  // Readings an earlier release left in DATA_DIR/spool reach InfluxDB too.
  const legacySpool = createLegacySpoolDrain({ dataDir: config.DATA_DIR, client: influxClient, log: log.child({ module: 'legacy-spool' }) })
  // Which days of open data changed when, so a cached answer is never kept past a late reading.
  const openDataChanges = createChangeClock()
  const makeInfluxWriter = (checkpoint: { load(): Promise<Position | null>; save(p: Position): Promise<void> }) =>
    createInfluxWriter({
      client: influxClient,
      checkpoint,
      log: log.child({ module: 'influx-writer' }),
      onWriting: (records) => openDataChanges.noteReadings(records),
      onWritten: (n, records) => {
        im.written.inc(n)
        openDataChanges.noteReadings(records)
        crossing?.written(writtenSpans(records))
      },
      // Through the log, like every other quarantined message: durable, and the writer never waits on the store.
      onRejected: (record, reason) =>
        new Promise<void>((resolve, reject) => {
          im.quarantined.inc({ code: 'INFLUX_REJECTED' })
          const entry: QuarantineRecord = {
            kind: 'quarantine',
            receivedAt: record.receivedAt,
            deviceId: record.deviceId,
            topic: `influxdb:${record.type}`,
            code: 'INFLUX_REJECTED',
            reason: reason.slice(0, 2000),
            issues: [],
            payload: Buffer.from(JSON.stringify(record)).toString('base64'),
          }
          durable.append(entry, (e) => (e ? reject(e) : resolve()))
        }),
      onMissingDatabase: ensureDb,
    })
  const influxWriters = new Set<ReturnType<typeof makeInfluxWriter>>()
  const influxWriterHealth = {
    get lastError() {
      for (const w of influxWriters) if (w.lastError) return w.lastError
      return null
    },
  }
  const NO_RULES: readonly Rule[] = []
  // The catalogue with site and device overrides; the API's writes reach it through the store's change hook.
  const ruleBook = createRuleBook({
    overrides: registry.overrides,
    catalogue: (t) => deviceTypeOf(t)?.rules ?? NO_RULES,
    log: log.child({ module: 'rule-book' }),
  })
  // Collection schedules of bins and rounds: the deadline bin-full-before-collection forecasts against.
  const scheduleBook = createScheduleBook({ store: registry.rounds, log: log.child({ module: 'schedules' }) })
  const makeCollectionRecorder = (reader?: string, fence?: number) =>
    createCollectionRecorder({ store: registry.rounds, log: log.child({ module: 'collections' }), reader, fence })
  const makeAlertEngine = (part?: { reader: string; owns: (deviceId: string) => boolean; fence: number }) =>
    createAlertEngine({
      store: registry.alerts,
      bus,
      rulesOf: ruleBook.rulesFor,
      scheduleOf: scheduleBook.scheduleOf,
      tariffPerKwh: config.ENERGY_TARIFF_GBP_PER_KWH,
      incidents: registry.incidents,
      incidentPolicy: {
        minDevices: config.INCIDENT_MIN_DEVICES,
        minShare: config.INCIDENT_MIN_SHARE,
        withinS: config.INCIDENT_WITHIN_S,
      },
      log: log.child({ module: 'alerts' }),
      ...part,
    })
  // The log follow's state, once the crossing below exists (the router asks only once the service runs).
  let followingSince = (): number | null => null
  const router = cluster ? createEngineRouter(config.CLUSTER_PARTITIONS, live.heardAt, () => followingSince()) : null
  const alertEngine: AlertEngines = router ?? makeAlertEngine()
  const OUTLOOK_RULE = 'bin-full-before-collection'
  const localOutlook = (d: EngineDevice) => alertEngine.outlook(d, OUTLOOK_RULE)
  const outlooks = router
    ? createClusterOutlooks({
        local: localOutlook,
        owns: router.owns,
        statesOf: registry.alerts.statesOf,
        rulesOf: ruleBook.rulesFor,
        ruleId: OUTLOOK_RULE,
        maxAgeMs: 2_000,
      })
    : async (list: readonly EngineDevice[]) => list.map(localOutlook)
  // A crew's collection mark reaches the missed-collection check (the round store tells us after its commit).
  registry.rounds.onChange((c) => {
    if (c.kind === 'collection' || c.kind === 'detected') openDataChanges.noteCollection(Date.parse(c.collection.at))
    if (c.kind === 'collection')
      alertEngine.noteCollection(c.deviceId, c.at).catch((e: Error) => log.warn({ err: e.message }, 'collection note failed'))
    // Every crew phone on the round sees the bin done, whoever marked it.
    if (c.kind === 'collection' || c.kind === 'detected') {
      const { collection } = c
      registry.devices
        .get(collection.deviceId)
        .then((d) => d && bus.emit('collection:recorded', { site: d.site, collection }))
        .catch((e: Error) => log.warn({ err: e.message }, 'collection event failed'))
    }
  })
  // Schedules are weekly at most: a mark older than a fortnight is before any bin's last collection day, and decides nothing.
  // Asked by each partition's engine as a node takes it (twelve at once at start): one query serves those asking together.
  let marksAsked: Promise<Map<string, number>> | null = null
  const recentMarks = () =>
    (marksAsked ??= registry.rounds.lastCollections({ since: Date.now() - 14 * 86_400_000 }).finally(() => {
      marksAsked = null
    }))
  // Cluster mode: what the other nodes took and wrote reaches this one's views, rules, schedules and engines.
  const crossing =
    cluster && stream
      ? clusterCrossing({
          cluster,
          stream,
          registry,
          live,
          reload: {
            rules: ruleBook.reload,
            schedules: scheduleBook.reload,
            marks: async () => {
              await router?.noteCollections(await recentMarks())
            },
          },
          noteCollection(deviceId, at, by) {
            openDataChanges.noteCollection(at)
            if (by === 'crew')
              alertEngine.noteCollection(deviceId, at).catch((e: Error) => log.warn({ err: e.message }, 'collection note failed'))
          },
          noteWritten(spans) {
            if (!spans) openDataChanges.touchAll()
            else for (const w of spans) openDataChanges.noteSpan(w.type, w.first, w.last)
          },
          noteSite: (r) => router?.noteSite(r),
          log: log.child({ module: 'cluster' }),
        })
      : null
  if (crossing) followingSince = () => crossing.followingSince
  // One machine: four readers of the local log. Cluster mode: the same four per partition this node holds, made
  // afresh each time it takes one; the list is kept current for /ready and the metrics.
  const readers: (ReturnType<typeof createReader> | StreamReader)[] = []
  let partitionReaders: PartitionReaders | null = null
  if (!cluster || !stream || !router) {
    const influxWriter = makeInfluxWriter(checkpointFile(logDir, 'influxdb'))
    influxWriters.add(influxWriter)
    readers.push(
      reader('influxdb', influxWriter, ['reading'], config.INFLUX_BATCH_LINES, config.INFLUX_FLUSH_MS),
      // 10 ms between part-full batches: a few ms on an alert, for a wake-up per several commits instead of per commit.
      reader(ALERT_READER, (alertEngine as AlertEngine).handler, ['reading'], 1000, 10),
      reader(QUARANTINE_READER, createQuarantineKeeper(registry), ['quarantine'], 500),
      // Not latency-critical: 250 ms between part-full batches.
      reader(COLLECTION_READER, makeCollectionRecorder().handler, ['reading'], 1000, 250),
    )
  } else {
    partitionReaders = clusterReaders({
      config,
      cluster,
      stream,
      registry,
      running: readers,
      log: readerLog,
      onFailure: (name) => lm?.failure(name),
      router,
      influxWriters,
      makeInfluxWriter,
      makeAlertEngine,
      makeCollectionRecorder,
      marks: recentMarks,
    })
  }
  lm = logMetrics(metrics, durable, readers)

  // The durable outbox (issue 14, design D13): reads what the store committed, on a thread of its own (thread.ts says why).
  const outbox = createOutboxThread({
    store: {
      dataDir: config.DATA_DIR,
      databaseUrl: config.DATABASE_URL,
      databasePasswordFile: config.DATABASE_PASSWORD_FILE,
      serverKeyFile: config.SERVER_KEY_FILE,
    },
    outbox: registry.outbox,
    bus,
    log: log.child({ module: 'outbox' }),
    config: {
      backoff: {
        firstMs: config.OUTBOX_BACKOFF_FIRST_MS,
        maxMs: config.OUTBOX_BACKOFF_MAX_MS,
        retryForMs: config.OUTBOX_RETRY_HOURS * 3_600_000,
      },
      concurrency: config.OUTBOX_CONCURRENCY,
      webhookTimeoutMs: config.WEBHOOK_TIMEOUT_MS,
      allowHosts: config.WEBHOOK_ALLOW_HOSTS,
      open311: config.OPEN311_URL
        ? {
            url: config.OPEN311_URL,
            apiKey: config.OPEN311_API_KEY,
            jurisdictionId: config.OPEN311_JURISDICTION_ID,
            timeoutMs: config.WEBHOOK_TIMEOUT_MS,
            serviceCodes: config.OPEN311_SERVICE_CODES,
            pollMs: config.OPEN311_POLL_S * 1000,
          }
        : null,
      vapidSubject: config.VAPID_SUBJECT ?? null,
      email:
        config.SMTP_URL && config.EMAIL_FROM
          ? {
              smtpUrl: config.SMTP_URL,
              from: config.EMAIL_FROM,
              digestHour: config.DIGEST_HOUR,
              publicUrl: config.HTTP_PUBLIC_URL ?? null,
            }
          : null,
    },
  })
  const outboxRunner = cluster && stream ? clusterOutbox(config, cluster, stream, outbox, log.child({ module: 'outbox' })) : null
  if (cluster && partitionReaders && outboxRunner)
    clusterMetrics(metrics, cluster.node, config.CLUSTER_PARTITIONS, partitionReaders, outboxRunner)

  const ingest = createIngest({
    log: durable,
    quarantine: registry.quarantine,
    device: registry.devices.get,
    live,
    metrics: im,
    logger: log.child({ module: 'ingest' }),
    window: { lateMs: config.TIME_LATE_S * 1000, earlyMs: config.TIME_EARLY_S * 1000 },
  })
  // The Things Stack in (issue 14): its uplinks take the same validation, quarantine and log as MQTT telemetry.
  const ttsIngest = createTtsIngest({
    log: durable,
    store: registry.tts,
    device: registry.devices.get,
    live,
    metrics: im,
    tts: ttsMetrics(metrics),
    logger: log.child({ module: 'tts' }),
    window: { lateMs: config.TIME_LATE_S * 1000, earlyMs: config.TIME_EARLY_S * 1000 },
  })
  const ttsMqtt =
    config.TTS_MQTT_URL && config.TTS_MQTT_USERNAME && config.TTS_MQTT_API_KEY
      ? createTtsMqtt(
          { url: config.TTS_MQTT_URL, username: config.TTS_MQTT_USERNAME, apiKey: config.TTS_MQTT_API_KEY },
          ttsIngest,
          log.child({ module: 'tts-mqtt' }),
        )
      : null

  const broker = await createBroker({
    config: {
      host: config.MQTT_HOST,
      port: config.MQTT_PORT,
      wsPort: config.MQTT_WS_PORT,
      tls:
        config.MQTT_TLS_CERT && config.MQTT_TLS_KEY
          ? { certFile: config.MQTT_TLS_CERT, keyFile: config.MQTT_TLS_KEY, port: config.MQTT_TLS_PORT, wsPort: config.MQTT_WSS_PORT }
          : null,
      maxPacketBytes: config.MQTT_MAX_PACKET_BYTES,
      cluster: cluster ? { redisUrl: cluster.redis } : null,
      maxConnections: config.MQTT_MAX_CONNECTIONS,
      maxConnectionsPerAddress: config.MQTT_MAX_CONNECTIONS_PER_ADDRESS,
      trustedAddresses: new Set(config.MQTT_TRUSTED_ADDRESSES),
      deviceRatePerS: config.MQTT_DEVICE_RATE,
      deviceBurst: config.MQTT_DEVICE_BURST,
      auth: config.MQTT_AUTH === 'on',
      keepaliveLimitS: config.MQTT_KEEPALIVE_LIMIT_S,
      keepaliveZero: config.MQTT_KEEPALIVE_ZERO === 'allow',
      connectTimeoutMs: config.MQTT_CONNECT_TIMEOUT_MS,
      authBrake: {
        freeFailures: config.MQTT_AUTH_BRAKE_AFTER,
        maxDelayMs: config.MQTT_AUTH_BRAKE_MAX_MS,
        forgetMs: config.MQTT_AUTH_BRAKE_FORGET_S * 1000,
      },
    },
    log: log.child({ module: 'broker' }),
    metrics: brokerMetrics(metrics),
    authenticate: registry.devices.authenticate,
    onPresence(device, presence, since) {
      // Presence is best-effort and off the MQTT path: a full data volume or a lost database must not turn a connect into a crash.
      registry.devices
        .setPresence(device.id, presence, presence === 'online' ? since : new Date(), presence === 'offline' ? since : undefined)
        .catch((e: Error) => log.warn({ deviceId: device.id, err: e.message }, 'could not store presence'))
      live.presence(device, presence)
    },
    onTelemetry: ingest.handleTelemetry,
  })

  // A device revoked by the CLI (another process) is disconnected within seconds, as one revoked through the API is at once.
  const revocations = createRevocationWatch({
    devices: registry.devices,
    disconnect: broker.disconnect,
    log: log.child({ module: 'revocations' }),
  })

  const app = await buildApp({
    registry,
    bus,
    state: live.get,
    bins: {
      outlooks,
      nextCollection: scheduleBook.nextCollection,
    },
    disconnect: broker.disconnect,
    influx,
    metrics,
    log: log.child({ module: 'http' }),
    webRoot,
    rulesFor: ruleBook.rulesFor,
    energy: { tariffGbpPerKwh: config.ENERGY_TARIFF_GBP_PER_KWH },
    openData: { publisher: config.OPEN_DATA_PUBLISHER, licence: config.OPEN_DATA_LICENCE_URL ?? null, changes: openDataChanges },
    http: {
      trustedProxies: config.HTTP_TRUSTED_PROXIES,
      mapTileUrl: config.MAP_TILE_URL ?? null,
      publicUrl: config.HTTP_PUBLIC_URL ?? null,
    },
    people: {
      sessionIdleMs: config.SESSION_IDLE_MINUTES * 60_000,
      sessionMaxMs: config.SESSION_MAX_HOURS * 3_600_000,
      invitationTtlMs: config.INVITATION_TTL_HOURS * 3_600_000,
      oidc:
        config.OIDC_ISSUER && config.OIDC_CLIENT_ID && config.OIDC_CLIENT_SECRET
          ? {
              issuer: config.OIDC_ISSUER,
              clientId: config.OIDC_CLIENT_ID,
              clientSecret: config.OIDC_CLIENT_SECRET,
              groupsClaim: config.OIDC_GROUPS_CLAIM,
              groupMap: config.OIDC_GROUP_MAP,
              // Plain http only for an issuer on this machine (the tests' provider); a real one is https.
              allowInsecureIssuer: /^http:\/\/(127\.0\.0\.1|localhost|\[::1\])[:/]/.test(config.OIDC_ISSUER),
            }
          : null,
    },
    replay: ingest.replay,
    tts: ttsIngest,
    ttsMqtt,
    outbox: {
      policy: outbox.policy,
      wake: outbox.wake,
      rotationOverlapMs: config.WEBHOOK_ROTATION_OVERLAP_HOURS * 3_600_000,
      push: config.VAPID_SUBJECT !== undefined,
    },
    socketIo: {
      pingIntervalMs: config.SOCKETIO_PING_INTERVAL_MS,
      pingTimeoutMs: config.SOCKETIO_PING_TIMEOUT_MS,
      recheckMs: config.SOCKETIO_RECHECK_MS,
      redisUrl: cluster?.redis ?? null,
    },
    ready: () =>
      readiness({
        influx,
        influxUrl: config.INFLUX_URL,
        influxWriter: influxWriterHealth,
        log: durable,
        readers,
        cluster:
          cluster && stream && partitionReaders && outboxRunner
            ? clusterHealth(
                cluster.node,
                stream,
                partitionReaders,
                config.CLUSTER_PARTITIONS,
                {
                  get holding() {
                    return outboxRunner.holding
                  },
                  refused: () => outbox.refused(),
                },
                () => followingSince(),
              )
            : null,
      }),
  })

  return {
    ...{ registry, live, durable, legacySpool, readers, alertEngine, ruleBook, scheduleBook, broker, revocations, app, ensureDb, lm: lm! },
    partitionReaders,
    crossing,
    outbox: outboxRunner ?? { start: () => outbox.start(), close: (deadline: number) => outbox.close(deadline) },
  }
}
export type Parts = Awaited<ReturnType<typeof compose>>
