import { randomBytes } from 'node:crypto'
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterEach, beforeEach, describe, expect, it } from 'vitest'
import { createScheduleBook } from '../../collections/schedule-book.ts'
import { CollectionSchedule, nextCollection } from '../../devices/collections/index.ts'
import { createHasher } from '../../registry/credentials.ts'
import { migrateToLatest, openStore, type Store } from '../../store/db.ts'
import { createDeviceStore } from '../../store/device-store.ts'
import { createRoundStore, type RoundStore } from '../../store/round-store.ts'

const monday = CollectionSchedule.parse({ weekdays: [1] })
const thursday = CollectionSchedule.parse({ weekdays: [4], time: '06:00' })
const SUNDAY_NIGHT = Date.parse('2026-03-29T21:00:00Z')

describe('schedule book', () => {
  let dataDir: string
  let store: Store
  let rounds: RoundStore
  beforeEach(async () => {
    dataDir = mkdtempSync(join(tmpdir(), 'sp-book-'))
    store = openStore({ dataDir })
    await migrateToLatest(store)
    const devices = createDeviceStore(store.db, createHasher(randomBytes(32)))
    for (const id of ['bin-1', 'bin-2', 'bin-3']) await devices.provision({ id, type: 'bin', name: id, site: 'leeds' })
    rounds = createRoundStore(store.db)
  })
  afterEach(async () => {
    await store.close()
    rmSync(dataDir, { recursive: true, force: true })
  })

  it("answers each bin's schedule and next collection, and follows writes before they return", async () => {
    await rounds.createRound({ id: 'north', name: 'North', site: null, schedule: monday }, 'alice')
    await rounds.setRoundBins('north', ['bin-1', 'bin-2'], 'alice')
    const book = createScheduleBook({ store: rounds })
    await book.start()
    expect(book.scheduleOf('bin-1')).toEqual(monday)
    expect(book.scheduleOf('bin-3')).toBeNull()
    expect(book.nextCollection('bin-3', SUNDAY_NIGHT)).toBeNull()
    expect(new Date(book.nextCollection('bin-1', SUNDAY_NIGHT)!).toISOString()).toBe('2026-03-30T06:00:00.000Z')

    // No reload needed: each write has reached the book when it returns.
    await rounds.setBinSchedule('bin-2', thursday, 'bob')
    expect(book.scheduleOf('bin-2')).toEqual(thursday)
    await rounds.updateRound('north', { name: 'North', site: null, schedule: thursday }, 'bob')
    expect(book.scheduleOf('bin-1')).toEqual(thursday)
    await rounds.setRoundBins('north', ['bin-3'], 'bob')
    expect(book.scheduleOf('bin-1')).toBeNull()
    expect(book.scheduleOf('bin-2')).toEqual(thursday) // its own
    expect(book.scheduleOf('bin-3')).toEqual(thursday)
    await rounds.removeBinSchedule('bin-2')
    expect(book.scheduleOf('bin-2')).toBeNull()
    await rounds.deleteRound('north')
    expect(book.scheduleOf('bin-3')).toBeNull()
    book.close()
  })

  it('keeps a change committed while it loads, and picks up another process’s writes on reload', async () => {
    await rounds.createRound({ id: 'north', name: 'North', site: null, schedule: monday }, 'alice')
    // The snapshot is read, then held until a write has committed: the write must survive the older snapshot landing.
    let release = () => {}
    const held = new Promise<void>((r) => {
      release = r
    })
    let snapshotTaken = false
    const book = createScheduleBook({
      store: {
        async scheduleSnapshot() {
          const s = await rounds.scheduleSnapshot()
          snapshotTaken = true
          await held
          return s
        },
        onChange: rounds.onChange,
      },
    })
    const started = book.start()
    while (!snapshotTaken) await new Promise((r) => setTimeout(r, 5))
    await rounds.setBinSchedule('bin-1', thursday, 'alice')
    release()
    await started
    expect(book.scheduleOf('bin-1')).toEqual(thursday)

    const elsewhere = createRoundStore(store.db)
    await elsewhere.setRoundBins('north', ['bin-2'], 'cli')
    expect(book.scheduleOf('bin-2')).toBeNull()
    await book.reload()
    expect(book.scheduleOf('bin-2')).toEqual(monday)
    book.close()
    await rounds.setBinSchedule('bin-2', thursday, 'alice')
    expect(book.scheduleOf('bin-2')).toEqual(monday)
  })

  it('gives the same next collection as the schedule itself, reading after reading, across the clock change', async () => {
    await rounds.createRound(
      { id: 'north', name: 'North', site: null, schedule: CollectionSchedule.parse({ weekdays: [1, 3, 5] }) },
      'alice',
    )
    await rounds.setRoundBins('north', ['bin-1'], 'alice')
    const book = createScheduleBook({ store: rounds })
    await book.start()
    const schedule = book.scheduleOf('bin-1')!
    const from = Date.parse('2026-03-25T00:00:00Z')
    for (let t = from; t < from + 14 * 86_400_000; t += 7 * 60_000) {
      expect(book.nextCollection('bin-1', t)).toBe(nextCollection(schedule, t))
    }
    // Out of order, too.
    expect(book.nextCollection('bin-1', from)).toBe(nextCollection(schedule, from))
  })
})
