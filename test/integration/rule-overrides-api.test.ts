import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import type { Rule } from '#devices'
import type { RuleOverrideHistoryEntry, StoredRuleOverride } from '../../devices/rules/overrides.ts'
import { startService, type TestService } from '../helpers/service.ts'

type Threshold = Extract<Rule, { kind: 'threshold' }>
interface ErrorAnswer {
  error: { code: string; message: string; issues?: { path: string; message: string }[] }
}
interface Effective {
  device: { id: string; type: string; site: string }
  rules: Rule[]
  disabled: string[]
  overrides: StoredRuleOverride[]
}

describe('per-site and per-device rule overrides over the API', () => {
  let svc: TestService
  let binFull: Threshold
  const json = (body: unknown) => ({ method: 'PUT', body: JSON.stringify(body) })
  const effective = async (id: string) => (await (await svc.api(`/api/rules/effective/${id}`)).json()) as Effective
  const ruleOf = (e: Effective, id: string) => e.rules.find((r) => r.id === id) as Threshold | undefined

  beforeAll(async () => {
    svc = await startService()
    await svc.provision({ id: 'bin-a', type: 'bin', site: 'market-square' })
    await svc.provision({ id: 'bin-b', type: 'bin', site: 'market-square' })
    await svc.provision({ id: 'boiler-a', type: 'boiler', site: 'market-square' })
  })
  afterAll(() => svc?.close())

  it('lists every device type’s catalogue rules as data', async () => {
    const res = await svc.api('/api/rules')
    expect(res.status).toBe(200)
    const types = (await res.json()) as { type: string; title: string; rules: Rule[] }[]
    expect(types.map((t) => t.type)).toEqual(expect.arrayContaining(['bin', 'boiler', 'meter']))
    const bin = types.find((t) => t.type === 'bin')!
    binFull = bin.rules.find((r) => r.id === 'bin-full') as Threshold
    expect(binFull).toMatchObject({
      kind: 'threshold',
      title: expect.any(String),
      severity: 'warning',
      field: 'fillingLevel',
      direction: 'above',
    })
    expect(binFull.text.length).toBeGreaterThan(10)
    expect(binFull.raiseAt).toBeGreaterThan(0.5)
  })

  it('sets a per-device threshold that changes that device’s rule only', async () => {
    const res = await svc.api(
      '/api/rules/overrides/device/bin-a/bin-full',
      json({ params: { raiseAt: 0.5, clearAt: 0.3 }, note: 'beside the school' }),
    )
    expect(res.status).toBe(200)
    const body = (await res.json()) as { override: StoredRuleOverride; effective: { type: string; rule: Threshold; disabled: boolean }[] }
    expect(body.override).toMatchObject({
      scope: 'device',
      target: 'bin-a',
      ruleId: 'bin-full',
      params: { raiseAt: 0.5, clearAt: 0.3 },
      disabled: false,
      note: 'beside the school',
      updatedBy: 'admin-token',
    })
    expect(Date.now() - Date.parse(body.override.updatedAt)).toBeLessThan(60_000)
    expect(body.effective).toEqual([{ type: 'bin', rule: { ...binFull, raiseAt: 0.5, clearAt: 0.3 }, disabled: false }])

    const a = await effective('bin-a')
    expect(ruleOf(a, 'bin-full')).toEqual({ ...binFull, raiseAt: 0.5, clearAt: 0.3 })
    expect(a.overrides.map((o) => o.ruleId)).toEqual(['bin-full'])
    const b = await effective('bin-b')
    expect(ruleOf(b, 'bin-full')).toEqual(binFull)
    expect(b.overrides).toEqual([])
  })

  it('refuses params the rule schema refuses, with the path of the failing field, and keeps the override it had', async () => {
    const put = (body: unknown) => svc.api('/api/rules/overrides/device/bin-a/bin-full', json(body))
    const refused = async (body: unknown) => {
      const res = await put(body)
      expect(res.status).toBe(400)
      const answer = (await res.json()) as ErrorAnswer
      expect(answer.error.code).toBe('BAD_REQUEST')
      return answer.error.issues?.map((i) => i.path)
    }
    // clearAt on the unsafe side of raiseAt: the hysteresis check of the catalogue applies.
    expect(await refused({ params: { clearAt: binFull.raiseAt + 0.01 } })).toEqual(['body.params.clearAt'])
    expect(await refused({ params: { raiseAt: 'high' } })).toEqual(['body.params.raiseAt'])
    expect(await refused({ params: { raiseAT: 0.5 } })).toEqual(['body.params.raiseAT'])
    expect(await refused({ params: { consecutive: 0 } })).toEqual(['body.params.consecutive'])
    expect(await refused({ params: { id: 'bin-empty' } })).toEqual(['body.params.id'])
    expect(await refused({ params: {}, colour: 'red' })).toHaveLength(1)

    expect(ruleOf(await effective('bin-a'), 'bin-full')).toMatchObject({ raiseAt: 0.5, clearAt: 0.3 })
    const history = (await (await svc.api('/api/rules/overrides/history?target=bin-a')).json()) as RuleOverrideHistoryEntry[]
    expect(history).toHaveLength(1)
  })

  it('refuses unknown devices and rules their type does not have', async () => {
    const unknown = await svc.api('/api/rules/overrides/device/bin-zz/bin-full', json({ disabled: true }))
    expect(unknown.status).toBe(404)
    expect(((await unknown.json()) as ErrorAnswer).error.code).toBe('NOT_FOUND')

    const wrongType = await svc.api('/api/rules/overrides/device/boiler-a/bin-full', json({ disabled: true }))
    expect(wrongType.status).toBe(400)
    expect(((await wrongType.json()) as ErrorAnswer).error.issues).toEqual([expect.objectContaining({ path: 'params.ruleId' })])

    const noRule = await svc.api('/api/rules/overrides/site/market-square/no-such-rule', json({ disabled: true }))
    expect(noRule.status).toBe(400)
    expect((await svc.api('/api/rules/overrides/street/market-square/bin-full', json({}))).status).toBe(400)
  })

  it('switches a rule off for a site, and a device override beats it', async () => {
    const res = await svc.api('/api/rules/overrides/site/market-square/bin-full', json({ disabled: true }))
    expect(res.status).toBe(200)
    const body = (await res.json()) as { effective: { type: string; disabled: boolean }[] }
    expect(body.effective).toEqual([expect.objectContaining({ type: 'bin', disabled: true })])

    const b = await effective('bin-b')
    expect(ruleOf(b, 'bin-full')).toBeUndefined()
    expect(b.disabled).toEqual(['bin-full'])
    // bin-a has its own override, which says enabled.
    expect(ruleOf(await effective('bin-a'), 'bin-full')).toMatchObject({ raiseAt: 0.5 })
    // A boiler on the site keeps all its rules and sees no bin override.
    const boiler = await effective('boiler-a')
    expect(boiler.disabled).toEqual([])
    expect(boiler.overrides).toEqual([])

    const listed = (await (await svc.api('/api/rules/overrides?scope=site')).json()) as StoredRuleOverride[]
    expect(listed.map((o) => [o.target, o.ruleId, o.disabled])).toEqual([['market-square', 'bin-full', true]])

    const off = await svc.api('/api/rules/overrides/site/market-square/bin-full?note=back%20to%20normal', { method: 'DELETE' })
    expect(off.status).toBe(200)
    expect(ruleOf(await effective('bin-b'), 'bin-full')).toEqual(binFull)
  })

  it('keeps who changed what and when, before and after, and deletes', async () => {
    const changed = await svc.api('/api/rules/overrides/device/bin-a/bin-full', json({ params: { raiseAt: 0.6, clearAt: 0.3 } }))
    expect(changed.status).toBe(200)
    const del = await svc.api('/api/rules/overrides/device/bin-a/bin-full?note=sensor%20moved', { method: 'DELETE' })
    expect(del.status).toBe(200)
    expect(((await del.json()) as { removed: StoredRuleOverride }).removed).toMatchObject({ params: { raiseAt: 0.6, clearAt: 0.3 } })
    expect((await svc.api('/api/rules/overrides/device/bin-a/bin-full', { method: 'DELETE' })).status).toBe(404)
    expect(ruleOf(await effective('bin-a'), 'bin-full')).toEqual(binFull)

    const res = await svc.api('/api/rules/overrides/history?target=bin-a&ruleId=bin-full')
    expect(res.status).toBe(200)
    const history = (await res.json()) as RuleOverrideHistoryEntry[]
    expect(history.map((h) => [h.action, h.actor, h.before?.params ?? null, h.after?.params ?? null, h.note])).toEqual([
      ['removed', 'admin-token', { raiseAt: 0.6, clearAt: 0.3 }, null, 'sensor moved'],
      ['set', 'admin-token', { raiseAt: 0.5, clearAt: 0.3 }, { raiseAt: 0.6, clearAt: 0.3 }, null],
      ['set', 'admin-token', null, { raiseAt: 0.5, clearAt: 0.3 }, 'beside the school'],
    ])
    for (const h of history) expect(Date.now() - Date.parse(h.at)).toBeLessThan(60_000)
    expect(Date.parse(history[0]!.at)).toBeGreaterThanOrEqual(Date.parse(history[2]!.at))
    const site = (await (await svc.api('/api/rules/overrides/history?scope=site')).json()) as RuleOverrideHistoryEntry[]
    expect(site.map((h) => h.action)).toEqual(['removed', 'set'])
    expect(site[0]?.note).toBe('back to normal')
  })

  it('needs a token and answers 404 for an unknown device', async () => {
    expect((await fetch(`${svc.url}/api/rules`)).status).toBe(401)
    expect((await fetch(`${svc.url}/api/rules/overrides/device/bin-a/bin-full`, { method: 'DELETE' })).status).toBe(401)
    expect((await svc.api('/api/rules/effective/bin-zz')).status).toBe(404)
  })

  it('documents the routes in the OpenAPI document', async () => {
    const doc = (await (await fetch(`${svc.url}/docs/json`)).json()) as { paths: Record<string, unknown> }
    expect(Object.keys(doc.paths)).toEqual(
      expect.arrayContaining(['/api/rules', '/api/rules/overrides/{scope}/{target}/{ruleId}', '/api/rules/effective/{deviceId}']),
    )
  })
})
