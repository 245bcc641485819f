import type { Kysely, Selectable } from 'kysely'
import { mappingKeyOf, type TtsApplication, type TtsFrame, type TtsMapping } from '#devices'
import type { Database, Iso } from './schema.ts'

export interface TtsApplicationsTable {
  id: string
  /** HMAC-SHA-256 of the webhook secret under the server key (registry/credentials.ts); the secret itself is never kept. */
  secret_hash: Buffer
  created_at: Iso
  created_by: string
  last_used_at: Iso | null
}

export interface TtsMappingsTable {
  key: string
  device_id: string
  decoder: string
  /** Decoder settings as JSON text. */
  params: string
  created_at: Iso
  created_by: string
}

export interface TtsFramesTable {
  device_id: string
  f_cnt: number
  received_at: number
  session: string | null
}

/** Tables this store owns; schema.ts's Database extends it. */
export type TtsTables = { tts_applications: TtsApplicationsTable; tts_mappings: TtsMappingsTable; tts_frames: TtsFramesTable }

export interface NewTtsMapping {
  key: string
  deviceId: string
  decoder: string
  params: Record<string, unknown>
}

/** What identifies an uplink's end device, for finding its mapping. */
export interface TtsDeviceRef {
  applicationId: string
  deviceId: string
  devEui?: string | undefined
}

export interface TtsStore {
  /** Makes the application, or gives it a new secret (the old one stops working at once). */
  setSecret(applicationId: string, secretHash: Buffer, actor: string, at?: Date): Promise<TtsApplication>
  applicationBySecret(secretHash: Buffer): Promise<TtsApplication | undefined>
  listApplications(): Promise<TtsApplication[]>
  removeApplication(applicationId: string): Promise<boolean>
  used(applicationId: string, at: Date): Promise<void>
  /** Null when a mapping with this key exists already. */
  addMapping(m: NewTtsMapping, actor: string, at?: Date): Promise<TtsMapping | null>
  /** The dev_eui mapping if there is one, else the application/device one. */
  mappingFor(ref: TtsDeviceRef): Promise<TtsMapping | undefined>
  listMappings(): Promise<TtsMapping[]>
  removeMapping(key: string): Promise<boolean>
  /** The frames of this device with this counter value already taken. */
  framesWith(deviceId: string, fCnt: number): Promise<TtsFrame[]>
  noteFrame(deviceId: string, f: TtsFrame): Promise<void>
  /** Forgets frames received before this time (epoch ms); returns how many. */
  pruneFrames(beforeMs: number): Promise<number>
}

const toApp = (r: Selectable<TtsApplicationsTable>): TtsApplication => ({
  id: r.id,
  createdAt: r.created_at,
  createdBy: r.created_by,
  lastUsedAt: r.last_used_at,
})

const toMapping = (r: Selectable<TtsMappingsTable>): TtsMapping => ({
  key: r.key,
  deviceId: r.device_id,
  decoder: r.decoder,
  params: JSON.parse(r.params) as Record<string, unknown>,
  createdAt: r.created_at,
  createdBy: r.created_by,
})

export function createTtsStore(db: Kysely<Database>): TtsStore {
  const mapping = async (key: string) => {
    const r = await db.selectFrom('tts_mappings').selectAll().where('key', '=', key).executeTakeFirst()
    return r && toMapping(r)
  }
  return {
    async setSecret(applicationId, secretHash, actor, at = new Date()) {
      const values = { secret_hash: secretHash, created_at: at.toISOString(), created_by: actor, last_used_at: null }
      await db
        .insertInto('tts_applications')
        .values({ id: applicationId, ...values })
        .onConflict((oc) => oc.column('id').doUpdateSet(values))
        .execute()
      return { id: applicationId, createdAt: values.created_at, createdBy: actor, lastUsedAt: null }
    },
    async applicationBySecret(secretHash) {
      const r = await db.selectFrom('tts_applications').selectAll().where('secret_hash', '=', secretHash).executeTakeFirst()
      return r && toApp(r)
    },
    async listApplications() {
      return (await db.selectFrom('tts_applications').selectAll().orderBy('id').execute()).map(toApp)
    },
    async removeApplication(applicationId) {
      const r = await db.deleteFrom('tts_applications').where('id', '=', applicationId).executeTakeFirst()
      return Number(r.numDeletedRows) > 0
    },
    async used(applicationId, at) {
      await db.updateTable('tts_applications').set({ last_used_at: at.toISOString() }).where('id', '=', applicationId).execute()
    },
    async addMapping(m, actor, at = new Date()) {
      const r = await db
        .insertInto('tts_mappings')
        .values({
          key: m.key,
          device_id: m.deviceId,
          decoder: m.decoder,
          params: JSON.stringify(m.params),
          created_at: at.toISOString(),
          created_by: actor,
        })
        .onConflict((oc) => oc.column('key').doNothing())
        .executeTakeFirst()
      return Number(r.numInsertedOrUpdatedRows ?? 0) > 0 ? ((await mapping(m.key)) ?? null) : null
    },
    async mappingFor(ref) {
      const byEui = ref.devEui ? await mapping(mappingKeyOf({ devEui: ref.devEui })) : undefined
      return byEui ?? mapping(mappingKeyOf({ applicationId: ref.applicationId, ttsDeviceId: ref.deviceId }))
    },
    async listMappings() {
      return (await db.selectFrom('tts_mappings').selectAll().orderBy('key').execute()).map(toMapping)
    },
    async removeMapping(key) {
      const r = await db.deleteFrom('tts_mappings').where('key', '=', key).executeTakeFirst()
      return Number(r.numDeletedRows) > 0
    },
    async framesWith(deviceId, fCnt) {
      const rows = await db
        .selectFrom('tts_frames')
        .select(['f_cnt', 'received_at', 'session'])
        .where('device_id', '=', deviceId)
        .where('f_cnt', '=', fCnt)
        .execute()
      return rows.map((r) => ({ fCnt: Number(r.f_cnt), receivedAt: Number(r.received_at), session: r.session }))
    },
    async noteFrame(deviceId, f) {
      await db
        .insertInto('tts_frames')
        .values({ device_id: deviceId, f_cnt: f.fCnt, received_at: f.receivedAt, session: f.session })
        .onConflict((oc) => oc.columns(['device_id', 'f_cnt', 'received_at']).doNothing())
        .execute()
    },
    async pruneFrames(beforeMs) {
      const r = await db.deleteFrom('tts_frames').where('received_at', '<', beforeMs).executeTakeFirst()
      return Number(r.numDeletedRows)
    },
  }
}
