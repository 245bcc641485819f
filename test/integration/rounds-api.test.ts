import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { type CollectionSchedule, nextCollection } from '../../devices/collections/index.ts'
import { startService, type TestService } from '../helpers/service.ts'

interface ErrorAnswer {
  error: { code: string; message: string; hint: string; issues?: { path: string; message: string }[] }
}
interface RoundAnswer {
  id: string
  name: string
  site: string | null
  schedule: CollectionSchedule
  deviceIds: string[]
  createdBy: string
  updatedBy: string
}
interface ScheduleAnswer {
  deviceId: string
  schedule: CollectionSchedule | null
  source: 'bin' | 'round' | null
  roundId: string | null
  next: string | null
}
interface CollectionAnswer {
  id: number
  deviceId: string
  at: string
  levelBefore: number | null
  wasted: boolean | null
  source: string
  actor: string
}

describe('collection rounds, schedules and collections over the API', () => {
  let svc: TestService
  const send = (method: string, path: string, body?: unknown) =>
    svc.api(path, { method, ...(body === undefined ? {} : { body: JSON.stringify(body) }) })
  const json = async <T>(res: Response, status: number): Promise<T> => {
    const text = await res.text()
    expect(res.status, text).toBe(status)
    return (text ? JSON.parse(text) : null) as T
  }

  beforeAll(async () => {
    svc = await startService()
    for (const id of ['bin-a', 'bin-b', 'bin-c']) await svc.provision({ id, type: 'bin', site: 'leeds' })
    await svc.provision({ id: 'boiler-x', type: 'boiler', site: 'leeds' })
  })
  afterAll(() => svc?.close())

  it('creates, reads, replaces and deletes a round, recording who did it', async () => {
    const made = await json<RoundAnswer>(
      await send('POST', '/api/rounds', { id: 'north', name: 'North', site: 'leeds', schedule: { weekdays: [1, 4] } }),
      201,
    )
    expect(made).toMatchObject({
      id: 'north',
      name: 'North',
      site: 'leeds',
      schedule: { weekdays: [1, 4], time: '07:00' },
      deviceIds: [],
      createdBy: 'admin-token',
    })
    const clash = await json<ErrorAnswer>(
      await send('POST', '/api/rounds', { id: 'north', name: 'Again', schedule: { weekdays: [2] } }),
      409,
    )
    expect(clash.error.code).toBe('CONFLICT')
    const anon = await json<RoundAnswer>(
      await send('POST', '/api/rounds', { name: 'Temporary', schedule: { weekdays: [7], time: '10:30' } }),
      201,
    )
    expect(anon.site).toBeNull()

    const replaced = await json<RoundAnswer>(
      await send('PUT', '/api/rounds/north', { name: 'North side', schedule: { weekdays: [2, 5], time: '06:15' } }),
      200,
    )
    expect(replaced).toMatchObject({ name: 'North side', site: null, schedule: { weekdays: [2, 5], time: '06:15' } })
    expect(await json<RoundAnswer>(await svc.api('/api/rounds/north'), 200)).toEqual(replaced)
    const list = await json<RoundAnswer[]>(await svc.api('/api/rounds'), 200)
    expect(list.map((r) => r.name)).toEqual(['North side', 'Temporary'])

    await json(await send('DELETE', `/api/rounds/${anon.id}`), 204)
    expect((await json<ErrorAnswer>(await send('DELETE', `/api/rounds/${anon.id}`), 404)).error.code).toBe('NOT_FOUND')
    expect((await json<ErrorAnswer>(await svc.api(`/api/rounds/${anon.id}`), 404)).error.code).toBe('NOT_FOUND')
    expect(
      (await json<ErrorAnswer>(await send('PUT', '/api/rounds/nope', { name: 'x', schedule: { weekdays: [1] } }), 404)).error.code,
    ).toBe('NOT_FOUND')
  })

  it('refuses schedules that are not a list of distinct weekdays 1-7 and a 24-hour time, saying where', async () => {
    const cases: [unknown, string][] = [
      [{ name: 'R', schedule: { weekdays: [] } }, 'body.schedule.weekdays'],
      [{ name: 'R', schedule: { weekdays: [1, 1] } }, 'body.schedule.weekdays'],
      [{ name: 'R', schedule: { weekdays: [8] } }, 'body.schedule.weekdays.0'],
      [{ name: 'R', schedule: { weekdays: [1], time: '7am' } }, 'body.schedule.time'],
      [{ name: '', schedule: { weekdays: [1] } }, 'body.name'],
      [{ id: 'Bad Id', name: 'R', schedule: { weekdays: [1] } }, 'body.id'],
    ]
    for (const [body, path] of cases) {
      const e = await json<ErrorAnswer>(await send('POST', '/api/rounds', body), 400)
      expect(e.error.code).toBe('BAD_REQUEST')
      expect(
        e.error.issues?.map((i) => i.path),
        JSON.stringify(body),
      ).toContain(path)
    }
  })

  it('puts provisioned bins on a round, one round per bin, and names the ids that are not bins', async () => {
    await json(await send('POST', '/api/rounds', { id: 'east', name: 'East', schedule: { weekdays: [3] } }), 201)
    await json(await send('POST', '/api/rounds', { id: 'west', name: 'West', schedule: { weekdays: [1, 2, 3, 4, 5, 6, 7] } }), 201)
    const refused = await json<ErrorAnswer>(await send('PUT', '/api/rounds/east/bins', { deviceIds: ['bin-a', 'boiler-x', 'ghost'] }), 400)
    expect(refused.error.code).toBe('BAD_REQUEST')
    expect(refused.error.message).toContain('boiler-x, ghost')
    expect(refused.error.issues!.map((i) => i.path)).toEqual(['body.deviceIds.1', 'body.deviceIds.2'])
    expect((await json<RoundAnswer>(await svc.api('/api/rounds/east'), 200)).deviceIds).toEqual([])

    // In the order given: the order the crew drives them.
    expect((await json<RoundAnswer>(await send('PUT', '/api/rounds/east/bins', { deviceIds: ['bin-b', 'bin-a'] }), 200)).deviceIds).toEqual(
      ['bin-b', 'bin-a'],
    )
    // bin-b moves to west and leaves east.
    expect((await json<RoundAnswer>(await send('PUT', '/api/rounds/west/bins', { deviceIds: ['bin-b'] }), 200)).deviceIds).toEqual([
      'bin-b',
    ])
    expect((await json<RoundAnswer>(await svc.api('/api/rounds/east'), 200)).deviceIds).toEqual(['bin-a'])
    expect((await json<ErrorAnswer>(await send('PUT', '/api/rounds/nope/bins', { deviceIds: [] }), 404)).error.code).toBe('NOT_FOUND')
  })

  it("serves a bin's schedule from its round or its own, with the next collection", async () => {
    const before = Date.now()
    const fromRound = await json<ScheduleAnswer>(await svc.api('/api/bins/bin-b/schedule'), 200)
    expect(fromRound).toMatchObject({
      deviceId: 'bin-b',
      source: 'round',
      roundId: 'west',
      schedule: { weekdays: [1, 2, 3, 4, 5, 6, 7], time: '07:00' },
    })
    const next = Date.parse(fromRound.next!)
    // Daily at 07:00 London time: the next one is within a day and is itself a scheduled time.
    expect(next).toBeGreaterThan(before)
    expect(next - before).toBeLessThanOrEqual(25 * 3_600_000)
    expect(nextCollection(fromRound.schedule!, next - 1)).toBe(next)

    const own = await json<ScheduleAnswer>(await send('PUT', '/api/bins/bin-b/schedule', { weekdays: [6], time: '05:45' }), 200)
    expect(own).toMatchObject({ source: 'bin', roundId: 'west', schedule: { weekdays: [6], time: '05:45' } })
    expect(nextCollection(own.schedule!, Date.parse(own.next!) - 1)).toBe(Date.parse(own.next!))
    await json(await send('DELETE', '/api/bins/bin-b/schedule'), 204)
    expect((await json<ScheduleAnswer>(await svc.api('/api/bins/bin-b/schedule'), 200)).source).toBe('round')
    expect((await json<ErrorAnswer>(await send('DELETE', '/api/bins/bin-b/schedule'), 404)).error.code).toBe('NOT_FOUND')

    expect(await json<ScheduleAnswer>(await svc.api('/api/bins/bin-c/schedule'), 200)).toEqual({
      deviceId: 'bin-c',
      schedule: null,
      source: null,
      roundId: null,
      next: null,
    })
    expect((await json<ErrorAnswer>(await svc.api('/api/bins/boiler-x/schedule'), 404)).error.code).toBe('NOT_FOUND')
    expect((await json<ErrorAnswer>(await send('PUT', '/api/bins/ghost/schedule', { weekdays: [1] }), 404)).error.code).toBe('NOT_FOUND')
    expect((await json<ErrorAnswer>(await send('PUT', '/api/bins/bin-c/schedule', { weekdays: [0] }), 400)).error.code).toBe('BAD_REQUEST')
  })

  it('marks a bin collected by hand once, lists collections and sums wasted trips per round', async () => {
    const now = await json<CollectionAnswer>(await send('POST', '/api/bins/bin-a/collections', {}), 201)
    expect(now).toMatchObject({ deviceId: 'bin-a', source: 'manual', actor: 'admin-token', levelBefore: null, wasted: null })
    expect(Math.abs(Date.parse(now.at) - Date.now())).toBeLessThan(60_000)
    // The same emptying marked twice counts once.
    const twice = await json<ErrorAnswer>(await send('POST', '/api/bins/bin-a/collections', {}), 409)
    expect(twice.error.code).toBe('CONFLICT')
    expect(twice.error.message).toContain(now.at)

    const earlier = new Date(Date.now() - 3 * 3_600_000).toISOString()
    const wasted = await json<CollectionAnswer>(await send('POST', '/api/bins/bin-a/collections', { at: earlier, levelBefore: 0.2 }), 201)
    expect(wasted).toMatchObject({ at: earlier, levelBefore: 0.2, wasted: true })
    await json(await send('POST', '/api/bins/bin-b/collections', { levelBefore: 0.75 }), 201)

    const future = new Date(Date.now() + 3_600_000).toISOString()
    expect((await json<ErrorAnswer>(await send('POST', '/api/bins/bin-a/collections', { at: future }), 400)).error.code).toBe('BAD_REQUEST')
    expect((await json<ErrorAnswer>(await send('POST', '/api/bins/bin-a/collections', { levelBefore: 2 }), 400)).error.code).toBe(
      'BAD_REQUEST',
    )
    expect((await json<ErrorAnswer>(await send('POST', '/api/bins/boiler-x/collections', {}), 404)).error.code).toBe('NOT_FOUND')

    const forA = await json<CollectionAnswer[]>(await svc.api('/api/collections?deviceId=bin-a'), 200)
    expect(forA.map((c) => c.at)).toEqual([now.at, earlier])
    const east = await json<CollectionAnswer[]>(await svc.api(`/api/collections?roundId=east&until=${encodeURIComponent(now.at)}`), 200)
    expect(east.map((c) => c.id)).toEqual([wasted.id])
    expect(await json<CollectionAnswer[]>(await svc.api('/api/collections?limit=1'), 200)).toHaveLength(1)
    expect((await json<ErrorAnswer>(await svc.api('/api/collections?since=yesterday'), 400)).error.code).toBe('BAD_REQUEST')

    const summary = await json<{ since: string; until: string; rounds: unknown[] }>(await svc.api('/api/collections/summary'), 200)
    expect(Date.parse(summary.until) - Date.parse(summary.since)).toBe(7 * 86_400_000)
    expect(summary.rounds).toEqual([
      { roundId: 'east', name: 'East', collections: 2, wasted: 1 },
      { roundId: 'north', name: 'North side', collections: 0, wasted: 0 },
      { roundId: 'west', name: 'West', collections: 1, wasted: 0 },
    ])
    // No body at all is a mark for now; a bin on no round is summed under roundId null.
    await json(await svc.api('/api/bins/bin-c/collections', { method: 'POST' }), 201)
    const withLoose = await json<{ rounds: unknown[] }>(await svc.api('/api/collections/summary'), 200)
    expect(withLoose.rounds.at(-1)).toEqual({ roundId: null, name: null, collections: 1, wasted: 0 })
    const inverted = `/api/collections/summary?since=${encodeURIComponent(now.at)}&until=${encodeURIComponent(earlier)}`
    expect((await json<ErrorAnswer>(await svc.api(inverted), 400)).error.code).toBe('BAD_REQUEST')
  })

  it('needs a token like the rest of the API', async () => {
    expect((await fetch(`${svc.url}/api/rounds`)).status).toBe(401)
    expect((await fetch(`${svc.url}/api/bins/bin-a/collections`, { method: 'POST' })).status).toBe(401)
  })
})
