import { describe, expect, it } from 'vitest'
import { BoilerReadings, explainFaultCode, FAULT_CODES, FaultCodeEntry, normaliseFaultCode, normaliseMaker } from '#devices'

// Words that put the fault on the household. Advice is about the boiler, never the people in the home.
const BLAMING = /\b(you caused|your fault|misuse|lifestyle|careless|should have|tenant|neglect|abuse|drying clothes|cooking|showering)\b/i

describe('fault code table', () => {
  it('has well-formed entries', () => {
    for (const e of FAULT_CODES) {
      expect(FaultCodeEntry.safeParse(e).success, e.code).toBe(true)
      expect(normaliseFaultCode(e.display), e.code).toBe(e.code)
      expect(e.advice, e.code).not.toMatch(BLAMING)
      expect(e.meaning, e.code).not.toMatch(BLAMING)
      // A lockout stops heating, so the advice has to say what to do about it.
      if (e.kind === 'lockout') expect(e.advice, e.code).toMatch(/engineer|reset|top/i)
    }
  })

  it('covers the codes issue 9 names', () => {
    const has = (code: string, maker: string) => explainFaultCode(code, maker).status === 'known'
    for (const code of ['EA227', 'EA229', '9F855', 'E9', 'A1', 'H03', 'SE']) expect(has(code, 'Worcester Bosch'), code).toBe(true)
    for (const code of ['F.22', 'F.28', 'F.29', 'F.75']) expect(has(code, 'Vaillant'), code).toBe(true)
    expect(has('E119', 'Baxi')).toBe(true)
    expect(has('E119', 'Potterton')).toBe(true)
    expect(has('L2', 'Ideal')).toBe(true)
    expect(has('SE', 'Ideal')).toBe(true)
  })

  it('has no code that means two things for one maker', () => {
    const seen = new Set<string>()
    for (const e of FAULT_CODES) {
      for (const key of [e.code, ...e.aliases]) {
        for (const m of e.makers) {
          expect(seen.has(`${m}:${key}`), `${m}:${key}`).toBe(false)
          seen.add(`${m}:${key}`)
        }
      }
    }
  })

  it('flags the entries we could not confirm', () => {
    expect(FAULT_CODES.filter((e) => !e.verified).map((e) => e.code)).toEqual(['9F855'])
  })

  it('keys fit the boiler reading schema, so a reported code can be looked up', () => {
    for (const e of FAULT_CODES) {
      expect(
        BoilerReadings.safeParse({
          flowTemp: 50,
          returnTemp: 40,
          pressureBar: 1.2,
          burnerOn: true,
          lockout: false,
          faultCode: e.display.replace(/\s/g, ''),
        }).success,
        e.code,
      ).toBe(true)
    }
  })
})

describe('explainFaultCode()', () => {
  it('accepts the code the way boilers and people write it', () => {
    for (const written of ['F.22', 'f22', 'F 22', ' F.22 ']) {
      const r = explainFaultCode(written, 'vaillant')
      expect(r.status === 'known' && r.entry.code, written).toBe('F22')
    }
    const r = explainFaultCode('9F/855', 'worcester')
    expect(r.status === 'known' && r.entry.display).toBe('9F 855')
    const greenstar8000 = explainFaultCode('227')
    expect(greenstar8000.status === 'known' && greenstar8000.entry.code).toBe('EA227')
  })

  it('gives the plain-English meaning, the lockout flag and who can clear it', () => {
    const r = explainFaultCode('E119', 'Baxi')
    if (r.status !== 'known') throw new Error(r.status)
    expect(r.entry).toMatchObject({ kind: 'lockout', clearedBy: 'resident', topic: 'pressure', makers: ['baxi', 'potterton'] })
    expect(r.entry.meaning).toMatch(/0\.5 bar/)
    const overheat = explainFaultCode('E9 224', 'Worcester Bosch')
    expect(overheat.status === 'known' && overheat.entry.clearedBy).toBe('engineer')
    const service = explainFaultCode('H08', 'Worcester')
    expect(service.status === 'known' && service.entry.kind).toBe('warning')
  })

  it('works without a maker when only one maker uses the code', () => {
    const r = explainFaultCode('L2')
    expect(r.status === 'known' && r.entry.makers).toEqual(['ideal'])
  })

  it('shows unknown codes as unknown, keeping the code exactly as reported', () => {
    const r = explainFaultCode('ZZ99')
    expect(r).toMatchObject({ status: 'unknown', code: 'ZZ99', maker: undefined })
    if (r.status !== 'unknown') throw new Error(r.status)
    expect(r.meaning).toMatch(/not in our table/)
    expect(r.advice).toMatch(/exactly as the boiler reported/)
    expect(r.advice).not.toMatch(BLAMING)
    expect(explainFaultCode('')).toMatchObject({ status: 'unknown' })
  })

  it('does not borrow another maker’s meaning', () => {
    // L2 is Ideal's ignition lockout; a Vaillant showing "L2" is not explained by it.
    expect(explainFaultCode('L2', 'Vaillant')).toMatchObject({ status: 'unknown', code: 'L2', maker: 'Vaillant' })
    // A maker we have never heard of could mean anything by E9.
    expect(explainFaultCode('E9', 'Acme Heating')).toMatchObject({ status: 'unknown', maker: 'Acme Heating' })
  })

  it('asks which boiler when makers disagree on a code', () => {
    const [l2] = FAULT_CODES.filter((e) => e.code === 'L2')
    if (!l2) throw new Error('L2 missing')
    const other: FaultCodeEntry = { ...l2, makers: ['vaillant'], meaning: 'A different meaning for the same letters.' }
    const table = [l2, other]
    const r = explainFaultCode('L2', undefined, table)
    expect(r.status === 'ambiguous' && r.entries.length).toBe(2)
    expect(explainFaultCode('L2', 'ideal', table)).toMatchObject({ status: 'known', entry: { makers: ['ideal'] } })
  })

  it('normalises maker names', () => {
    expect(normaliseMaker('Worcester Bosch')).toBe('worcester-bosch')
    expect(normaliseMaker('IDEAL heating')).toBe('ideal')
    expect(normaliseMaker('Viessmann')).toBeUndefined()
  })
})
