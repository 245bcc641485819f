import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import type { Alert } from '#devices'
import { startService, type TestService } from '../helpers/service.ts'

describe('GET /api/alerts pages by a cursor (issue 11: a cleared alert stays findable, however many came after)', () => {
  let svc: TestService
  const T = Date.now() - 3_600_000

  beforeAll(async () => {
    svc = await startService()
    for (let i = 0; i < 4; i++) await svc.provision({ id: `page-bin-${i}`, type: 'bin', site: 'paging' })
    const raise = (deviceId: string, ruleId: string, ts: number) =>
      svc.service.registry.alerts.raise({
        deviceId,
        deviceType: 'bin',
        site: 'paging',
        rule: { id: ruleId, title: `Rule ${ruleId}`, severity: 'warning' },
        value: 1,
        ts,
      })
    // Four at one reading time (a page boundary will fall among them), three on their own.
    for (let i = 0; i < 4; i++) await raise(`page-bin-${i}`, 'bin-full', T)
    await raise('page-bin-0', 'bin-fire', T - 1_000)
    await raise('page-bin-1', 'bin-fire', T + 1_000)
    await raise('page-bin-2', 'bin-fire', T - 2_000)
  })
  afterAll(async () => {
    await svc?.close()
  })

  const list = async (query: string) => {
    const res = await svc.api(`/api/alerts?${query}`)
    expect(res.status).toBe(200)
    return (await res.json()) as Alert[]
  }
  const cursorOf = (a: Alert) => `${Date.parse(a.raisedAt)}_${a.id}`

  it('walks every alert once, newest first, two at a time, ties included', async () => {
    const all = await list('limit=100')
    expect(all).toHaveLength(7)
    const walked: Alert[] = []
    let page = await list('limit=2')
    while (page.length > 0) {
      walked.push(...page)
      page = await list(`limit=2&before=${cursorOf(page.at(-1)!)}`)
    }
    expect(walked.map((a) => a.id)).toEqual(all.map((a) => a.id))
    expect(new Set(walked.map((a) => a.id)).size).toBe(7)
    const times = walked.map((a) => Date.parse(a.raisedAt))
    expect([...times].sort((a, b) => b - a)).toEqual(times)
  })

  it('keeps the other filters while paging, and refuses a cursor that is not one', async () => {
    const fires = await list('ruleId=bin-fire&limit=1')
    const next = await list(`ruleId=bin-fire&limit=5&before=${cursorOf(fires[0]!)}`)
    expect([...fires, ...next].map((a) => a.deviceId)).toEqual(['page-bin-1', 'page-bin-0', 'page-bin-2'])
    const res = await svc.api('/api/alerts?before=yesterday')
    expect(res.status).toBe(400)
    expect(((await res.json()) as { error: { code: string } }).error.code).toBe('BAD_REQUEST')
  })
})
