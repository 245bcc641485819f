import { describe, expect, it } from 'vitest'
import { createTtsStore } from '../../store/tts-store.ts'
import { freshStore, STORE_ADAPTERS } from '../helpers/stores.ts'

const T0 = new Date('2026-11-30T08:00:00.000Z')
const hash = (b: number) => Buffer.alloc(32, b)

describe.each(STORE_ADAPTERS)('TTS store on %s', (_dialect, open) => {
  const s = freshStore(open, 'sp-tts-store-')

  it('migrates 0011-tts', () => {
    expect(s.migrated).toContain('0011-tts')
  })

  it('finds an application by its secret hash only; a new secret replaces the old one', async () => {
    const tts = createTtsStore(s.store.db)
    expect(await tts.setSecret('croydon-waste', hash(1), 'admin', T0)).toEqual({
      id: 'croydon-waste',
      createdAt: T0.toISOString(),
      createdBy: 'admin',
      lastUsedAt: null,
    })
    expect((await tts.applicationBySecret(hash(1)))?.id).toBe('croydon-waste')
    expect(await tts.applicationBySecret(hash(2))).toBeUndefined()
    await tts.setSecret('croydon-waste', hash(2), 'admin', T0)
    expect(await tts.applicationBySecret(hash(1))).toBeUndefined()
    expect((await tts.applicationBySecret(hash(2)))?.id).toBe('croydon-waste')
    await tts.used('croydon-waste', new Date(T0.getTime() + 1000))
    expect((await tts.listApplications())[0]?.lastUsedAt).toBe('2026-11-30T08:00:01.000Z')
    expect(await tts.removeApplication('croydon-waste')).toBe(true)
    expect(await tts.removeApplication('croydon-waste')).toBe(false)
    expect(await tts.applicationBySecret(hash(2))).toBeUndefined()
  })

  it('keeps one mapping per key, prefers the dev_eui mapping, and removes by key', async () => {
    const tts = createTtsStore(s.store.db)
    const byEui = await tts.addMapping(
      { key: 'eui:0004A30B001C0530', deviceId: 'bin-1', decoder: 'dragino-ldds75', params: { depthMm: 900 } },
      'a',
      T0,
    )
    expect(byEui).toEqual({
      key: 'eui:0004A30B001C0530',
      deviceId: 'bin-1',
      decoder: 'dragino-ldds75',
      params: { depthMm: 900 },
      createdAt: T0.toISOString(),
      createdBy: 'a',
    })
    expect(await tts.addMapping({ key: 'eui:0004A30B001C0530', deviceId: 'bin-2', decoder: 'native', params: {} }, 'a')).toBeNull()
    await tts.addMapping({ key: 'dev:app-1:dev-1', deviceId: 'bin-3', decoder: 'native', params: {} }, 'a')
    expect((await tts.mappingFor({ applicationId: 'app-1', deviceId: 'dev-1', devEui: '0004A30B001C0530' }))?.deviceId).toBe('bin-1')
    expect((await tts.mappingFor({ applicationId: 'app-1', deviceId: 'dev-1', devEui: 'FFFFFFFFFFFFFFFF' }))?.deviceId).toBe('bin-3')
    expect((await tts.mappingFor({ applicationId: 'app-1', deviceId: 'dev-1' }))?.deviceId).toBe('bin-3')
    expect(await tts.mappingFor({ applicationId: 'app-2', deviceId: 'dev-1' })).toBeUndefined()
    expect((await tts.listMappings()).map((m) => m.key)).toEqual(['dev:app-1:dev-1', 'eui:0004A30B001C0530'])
    expect(await tts.removeMapping('dev:app-1:dev-1')).toBe(true)
    expect(await tts.removeMapping('dev:app-1:dev-1')).toBe(false)
    expect(await tts.mappingFor({ applicationId: 'app-1', deviceId: 'dev-1' })).toBeUndefined()
  })

  it('keeps the frames taken, once each, with 32-bit counters and epoch ms, and prunes old ones', async () => {
    const tts = createTtsStore(s.store.db)
    const t = T0.getTime()
    await tts.noteFrame('bin-1', { fCnt: 4_294_967_295, receivedAt: t, session: 'S1' })
    await tts.noteFrame('bin-1', { fCnt: 4_294_967_295, receivedAt: t, session: 'S1' })
    await tts.noteFrame('bin-1', { fCnt: 4_294_967_295, receivedAt: t + 86_400_000, session: null })
    await tts.noteFrame('bin-2', { fCnt: 4_294_967_295, receivedAt: t, session: null })
    const frames = await tts.framesWith('bin-1', 4_294_967_295)
    expect(frames.sort((a, b) => a.receivedAt - b.receivedAt)).toEqual([
      { fCnt: 4_294_967_295, receivedAt: t, session: 'S1' },
      { fCnt: 4_294_967_295, receivedAt: t + 86_400_000, session: null },
    ])
    expect(await tts.framesWith('bin-1', 1)).toEqual([])
    expect(await tts.pruneFrames(t + 1)).toBe(2)
    expect(await tts.framesWith('bin-1', 4_294_967_295)).toHaveLength(1)
  })
})
