import { describe, expect, it } from 'vitest'
import { type CaseView, deviceTypeOf } from '#devices'
import { dampRuleOf, dampSpans } from '../../dashboards/web/src/housing-damp.ts'
import { caseClock, estateName, homeName, levelsOf, openAlertsInWords, span } from '../../dashboards/web/src/housing-words.ts'

const H = 3_600_000
const rulesOf = (type: string) => [...deviceTypeOf(type)!.rules]

describe('housing view words (issue 11, housing)', () => {
  it('names a home from what its devices share after the kind, else by UPRN', () => {
    expect(homeName([{ name: 'Boiler, 14 Hawthorn House' }, { name: 'Bedroom sensor, 14 Hawthorn House' }], '1')).toBe('14 Hawthorn House')
    expect(homeName([{ name: 'boiler-7' }], '100023336956')).toBe('Home 100023336956')
  })

  it('names an estate from the estate area covering its site, else by the site id', () => {
    const areas = [
      { id: 'north-ward', name: 'North ward', kind: 'ward' as const, sites: ['hawthorn', 'elm'] },
      { id: 'hawthorn-estate', name: 'Hawthorn Estate', kind: 'estate' as const, sites: ['hawthorn'] },
    ]
    expect(estateName('hawthorn', areas)).toBe('Hawthorn Estate')
    expect(estateName('elm', areas)).toBe('elm')
  })

  it('says open alerts in words, critical ones marked', () => {
    expect(openAlertsInWords([])).toBe('No open alerts')
    expect(
      openAlertsInWords([
        { title: 'Boiler locked out', severity: 'critical' },
        { title: 'Damp and mould risk', severity: 'warning' },
      ]),
    ).toBe('2 open alerts: Boiler locked out (critical), Damp and mould risk')
  })

  it("says a case's clock: time left, or breached and by how long", () => {
    expect(span(3 * 86_400 + 4 * 3600 + 59)).toBe('3 days 4 hours')
    expect(span(-(2 * 3600 + 5 * 60))).toBe('2 hours 5 minutes')
    expect(span(30)).toBe('under a minute')
    const d = (o: Partial<CaseView['deadlines'][number]>): CaseView['deadlines'][number] => ({
      step: 'investigate',
      doneBy: 'investigated',
      due: '2026-11-30T12:00:00.000Z',
      done: null,
      secondsLeft: 3600,
      status: 'open' as CaseView['deadlines'][number]['status'],
      breached: false,
      provisional: false,
      calendarCovered: true,
      source: '',
      ...o,
    })
    const running = caseClock({ breached: false, next: d({}), deadlines: [d({})] })
    expect(running).toEqual({ text: expect.stringMatching(/^Investigate by .+, 1 hour left$/), breached: false })
    const late = d({ secondsLeft: -2 * 86_400, breached: true })
    const breached = caseClock({ breached: true, next: late, deadlines: [late] })
    expect(breached).toEqual({ text: expect.stringMatching(/^Breached: Investigate was due by .+, overdue by 2 days$/), breached: true })
  })

  it('draws the alert levels the engine watches on a field, one line per value', () => {
    expect(levelsOf(rulesOf('boiler'), 'pressureBar')).toEqual([
      { value: 0.5, label: 'Boiler pressure below lockout level', severity: 'critical' },
      { value: 0.8, label: 'Boiler pressure low', severity: 'warning' },
      { value: 2.5, label: 'Boiler pressure high; Expansion vessel may need recharging', severity: 'warning' },
    ])
    expect(levelsOf(rulesOf('room'), 'humidity').map((l) => l.value)).toEqual([70, 80, 90])
    expect(levelsOf(rulesOf('room'), 'temperature')).toEqual([])
  })
})

describe('damp-risk periods from humidity readings (issue 11, housing)', () => {
  const rule = dampRuleOf(rulesOf('room'))!
  const series = (values: number[], stepMs = 15 * 60_000) => ({ times: values.map((_, i) => i * stepMs), values })

  it('finds no damp risk in a shower spike that decays within the hour', () => {
    const { times, values } = series([55, 55, 95, 85, 72, 60, 55, 55, 55])
    expect(dampSpans(rule, times, values)).toEqual([])
  })

  it('shades from when RH has been over 70 % for more than 2 h in 12 h, with the conditions that held', () => {
    // Four hours at 55 %, six at 88 %, then dry for fourteen.
    const { times, values } = series([...Array(16).fill(55), ...Array(24).fill(88), ...Array(56).fill(55)])
    const spans = dampSpans(rule, times, values)
    expect(spans).toHaveLength(1)
    const [s] = spans
    // Humid from 4 h: over 2 h beyond 70 % is first seen at the reading after 6 h 00.
    expect(s!.from).toBe(6 * H + 15 * 60_000)
    expect(s!.reasons).toEqual(['Over 70 % for more than 2 h in 12 h', 'Over 80 % for 4 hours'])
    // Humid 4 h to 10 h: the 12 hours up to t hold more than 2 of them until t reaches 20 h, where the span ends.
    expect(s!.to).toBe(20 * H)
  })

  it('ignores missing readings', () => {
    expect(dampSpans(rule, [0, H], [null, undefined])).toEqual([])
  })
})
