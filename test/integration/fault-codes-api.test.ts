import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { startService, type TestService } from '../helpers/service.ts'

describe('boiler fault codes in plain English over the API', () => {
  let svc: TestService
  beforeAll(async () => {
    svc = await startService()
  })
  afterAll(() => svc?.close())

  it('explains a known code: lockout, who can clear it, and advice', async () => {
    const res = await svc.api('/api/fault-codes/EA227?maker=worcester-bosch')
    expect(res.status).toBe(200)
    const body = (await res.json()) as { status: string; entry: { code: string; kind: string; clearedBy: string; advice: string } }
    expect(body.status).toBe('known')
    expect(body.entry).toMatchObject({ code: 'EA227', kind: 'lockout', clearedBy: 'resident' })
    expect(body.entry.advice.length).toBeGreaterThan(40)
  })

  it('answers an unknown code as unknown, with the code as the boiler showed it', async () => {
    const res = await svc.api(`/api/fault-codes/${encodeURIComponent('Zz.99')}`)
    expect(res.status).toBe(200)
    expect(await res.json()).toMatchObject({ status: 'unknown', code: 'Zz.99' })
  })

  it('never explains one maker’s code with another maker’s meaning', async () => {
    const res = await svc.api('/api/fault-codes/F.22?maker=worcester-bosch')
    expect(((await res.json()) as { status: string }).status).toBe('unknown')
    const vaillant = (await (await svc.api('/api/fault-codes/F.22?maker=vaillant')).json()) as {
      status: string
      entry: { makers: string[] }
    }
    expect(vaillant.status).toBe('known')
    expect(vaillant.entry.makers).toContain('vaillant')
  })

  it('lists the table, and needs a token like the rest of the API', async () => {
    const list = (await (await svc.api('/api/fault-codes')).json()) as { code: string }[]
    expect(list.map((e) => e.code)).toEqual(expect.arrayContaining(['EA227', 'F22', 'E119', 'L2']))
    expect((await fetch(`${svc.url}/api/fault-codes/EA227`)).status).toBe(401)
  })
})
