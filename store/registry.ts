import { createECDH } from 'node:crypto'
import { createHasher, type Hasher, loadOrCreateServerKey, newSecret } from '../registry/credentials.ts'
import { type AlertStore, createAlertStore } from './alert-store.ts'
import { type AreaStore, createAreaStore } from './area-store.ts'
import { type AuditStore, createAuditStore } from './audit-store.ts'
import { type CaseStore, createCaseStore } from './case-store.ts'
import { type Checkpoint, type CheckpointStore, createCheckpointStore, writeCheckpoint } from './checkpoint-store.ts'
import { migrateToLatest, openStore, type Store } from './db.ts'
import { createDeviceStore, type DeviceStore } from './device-store.ts'
import { createIncidentStore, type IncidentStore } from './incident-store.ts'
import { createOpenDataStore, type OpenDataStore } from './open-data-store.ts'
import { createOpen311Store, type Open311Store } from './open311-store.ts'
import { createOutboxStore, type OutboxStore } from './outbox-store.ts'
import { createOverrideStore, type OverrideStore } from './override-store.ts'
import { createPeopleStore, type PeopleStore } from './people-store.ts'
import { createPushStore, type PushStore } from './push-store.ts'
import { createQuarantineStore, type NewQuarantine, type QuarantineStore } from './quarantine-store.ts'
import { checkFence, claimFence } from './reader-fences.ts'
import { createRoundStore, type RoundStore } from './round-store.ts'
import { createSessionStore, type SessionStore } from './session-store.ts'
import { createTokenStore, type TokenStore } from './token-store.ts'
import { createTtsStore, type TtsStore } from './tts-store.ts'
import { createSecretBox } from './webhook-secrets.ts'
import { createWebhookStore, type WebhookStore } from './webhook-store.ts'

export interface AdminTokens {
  /** A freshly generated token to print once, or null when one already exists or automation supplied it. */
  created: string | null
  verify(token: string): boolean
}

export interface Registry {
  dialect: Store['dialect']
  devices: DeviceStore & { revokedSince(sinceIso: string): Promise<{ id: string; revokedAt: string }[]> }
  alerts: AlertStore
  cases: CaseStore
  incidents: IncidentStore
  overrides: OverrideStore
  rounds: RoundStore
  quarantine: QuarantineStore
  checkpoints: CheckpointStore
  /** Quarantine entries and a log reader's checkpoint, in one transaction. */
  keepQuarantine(entries: readonly NewQuarantine[], reader: string, checkpoint: Checkpoint, fence?: number): Promise<void>
  /** Cluster mode: a node taking a partition claims its readers' fences (store/reader-fences.ts). */
  fences: { claim(reader: string, epoch: number): Promise<void> }
  admin: AdminTokens
  people: PeopleStore
  sessions: SessionStore
  tokens: TokenStore
  areas: AreaStore
  audit: AuditStore
  /** Which open datasets are published (issue 13). */
  openData: OpenDataStore
  /** The Things Stack applications, device mappings and frames taken (issue 14). */
  tts: TtsStore
  /** Webhook subscriptions (issue 14); their signing keys sealed under the server key. */
  webhooks: WebhookStore
  /** The durable outbox's deliveries and cursors (issue 14, design D13). */
  outbox: OutboxStore
  /** Service requests made on the contractor's Open311 endpoint, and their polled status. */
  open311: Open311Store
  /** Phones subscribed to Web Push, and each person's notification choices. */
  push: PushStore
  /** The service's VAPID key pair (RFC 8292), made on first use and kept sealed under the server key. */
  vapidKeys(): Promise<{ publicKey: string; privateKey: string }>
  /** The server's keyed hash, for session ids, API tokens and invitation links. */
  hasher: Hasher
  close(): Promise<void>
}

export interface RegistryOptions {
  dataDir: string
  /** The HMAC and sealing key's file when several nodes share one registry; unset, DATA_DIR/server.key. */
  serverKeyFile?: string | undefined
  /** postgres://… selects PostgreSQL; unset, SQLite under dataDir. */
  databaseUrl?: string | undefined
  /** PostgreSQL's password, from a file (DATABASE_PASSWORD_FILE). */
  databasePasswordFile?: string | undefined
  adminToken?: string | undefined
  quarantineMax?: number
  quarantineMaxAgeMs?: number
  onPoolError?: (err: Error) => void
  /** PostgreSQL: the most connections this process opens (the outbox's thread holds one per fenced attempt). */
  poolMax?: number
  /** False for tools (the devices CLI) that must not create the admin token the service's first start prints. */
  createAdminToken?: boolean
}

/** Opens the store (SQLite or PostgreSQL), applies migrations, and puts the ports on it. */
export async function openRegistry(opts: RegistryOptions): Promise<Registry> {
  const store = openStore({
    dataDir: opts.dataDir,
    databaseUrl: opts.databaseUrl,
    passwordFile: opts.databasePasswordFile,
    onPoolError: opts.onPoolError,
    poolMax: opts.poolMax,
  })
  try {
    await migrateToLatest(store)
  } catch (e) {
    await store.close()
    throw e
  }
  const { db } = store
  // The HMAC key stays a file beside the data: it never travels through the database it protects.
  const serverKey = loadOrCreateServerKey(opts.dataDir, opts.serverKeyFile)
  const hasher = createHasher(serverKey)
  const devices = createDeviceStore(db, hasher)

  const getSecret = async (name: string) =>
    (await db.selectFrom('secrets').select('value').where('name', '=', name).executeTakeFirst())?.value
  const putSecret = (name: string, value: Buffer) =>
    db
      .insertInto('secrets')
      .values({ name, value })
      .onConflict((oc) => oc.column('name').doUpdateSet({ value }))
      .execute()
  let created: string | null = null
  if (opts.adminToken) await putSecret('admin_token', hasher.hash(opts.adminToken))
  else if (opts.createAdminToken !== false && !(await getSecret('admin_token'))) {
    created = newSecret()
    await putSecret('admin_token', hasher.hash(created))
  }
  const token = await getSecret('admin_token')
  const stored = token ? Buffer.from(token) : null

  const loadVapidKeys = async () => {
    const box = createSecretBox(serverKey, 'smartplace vapid keys')
    const sealed = await getSecret('vapid_keys')
    if (!sealed) {
      const ecdh = createECDH('prime256v1')
      ecdh.generateKeys()
      const keys = { publicKey: ecdh.getPublicKey('base64url'), privateKey: ecdh.getPrivateKey('base64url') }
      // Two services starting on one new database: the first key pair written is the one both keep.
      await db
        .insertInto('secrets')
        .values({ name: 'vapid_keys', value: box.seal(Buffer.from(JSON.stringify(keys))) })
        .onConflict((oc) => oc.column('name').doNothing())
        .execute()
    }
    const kept = sealed ?? (await getSecret('vapid_keys'))
    return JSON.parse(box.open(Buffer.from(kept!)).toString('utf8')) as { publicKey: string; privateKey: string }
  }
  let vapid: Promise<{ publicKey: string; privateKey: string }> | undefined

  return {
    dialect: store.dialect,
    devices: Object.assign(devices, {
      async revokedSince(sinceIso: string) {
        const rows = await db.selectFrom('devices').select(['id', 'revoked_at']).where('revoked_at', '>=', sinceIso).execute()
        return rows.map((r) => ({ id: r.id, revokedAt: String(r.revoked_at) }))
      },
    }),
    alerts: createAlertStore(db),
    cases: createCaseStore(db),
    incidents: createIncidentStore(db),
    overrides: createOverrideStore(db),
    rounds: createRoundStore(db),
    quarantine: createQuarantineStore(db, opts.quarantineMax, opts.quarantineMaxAgeMs),
    checkpoints: createCheckpointStore(db),
    async keepQuarantine(entries, reader, checkpoint, fence) {
      await db.transaction().execute(async (trx) => {
        await checkFence(trx, reader, fence)
        const q = createQuarantineStore(trx, opts.quarantineMax, opts.quarantineMaxAgeMs)
        for (const e of entries) await q.add(e)
        await writeCheckpoint(trx, reader, checkpoint)
      })
    },
    fences: { claim: (reader, epoch) => claimFence(db, reader, epoch) },
    admin: { created, verify: (t) => stored !== null && hasher.verify(t, stored) },
    people: createPeopleStore(db),
    sessions: createSessionStore(db),
    tokens: createTokenStore(db),
    areas: createAreaStore(db),
    audit: createAuditStore(db),
    openData: createOpenDataStore(db),
    tts: createTtsStore(db),
    webhooks: createWebhookStore(db, createSecretBox(serverKey)),
    outbox: createOutboxStore(db, store.dialect),
    open311: createOpen311Store(db),
    push: createPushStore(db),
    // Read (and made, the first time) once per process: every push delivery signs with it.
    // A failed read is not kept: the next delivery asks the store again.
    vapidKeys: () =>
      (vapid ??= loadVapidKeys().catch((e: unknown) => {
        vapid = undefined
        throw e
      })),
    hasher,
    close: () => store.close(),
  }
}
