import { Rule, type RuleSpec } from '#devices'

/**
 * Rules as the catalogue will write them, with where each constant comes from. Numbers marked
 * "ours" are not in domain.md and are choices for these tests.
 */
const parse = <K extends Rule['kind']>(spec: RuleSpec & { kind: K }) => Rule.parse(spec) as Extract<Rule, { kind: K }>

// domain.md §5.1 suggested defaults: full at 95 %, clear below 70 %, 2 consecutive readings.
export const binFull = parse({
  kind: 'threshold',
  id: 'bin-full',
  title: 'Bin full',
  text: 'This bin is full and needs emptying.',
  severity: 'warning',
  field: 'fillingLevel',
  direction: 'above',
  raiseAt: 0.95,
  clearAt: 0.7,
  consecutive: 2,
  clearConsecutive: 2,
})

// domain.md §5.2 defaults: "no heat" = flow below 35 °C for 60 min (the cold-outside part is the caller's).
export const boilerNoHeat = parse({
  kind: 'threshold',
  id: 'boiler-no-heat',
  title: 'No heat',
  text: 'Heating is on but the radiators are not getting hot. An engineer visit may be needed.',
  severity: 'warning',
  field: 'flowTemp',
  direction: 'below',
  raiseAt: 35,
  clearAt: 40, // ours
  forS: 3600,
  escalation: { afterS: 3600, to: 'critical' }, // ours
})

// domain.md §5.1 defaults: fire = rise > 15 °C between readings, no debounce; bins report every 1,200 s.
export const binFireRise = parse({
  kind: 'rate',
  id: 'bin-fire',
  title: 'Possible bin fire',
  text: 'The temperature inside this bin rose sharply. Treat it as a possible fire.',
  severity: 'critical',
  field: 'temperature',
  per: 'reading',
  direction: 'above',
  raiseAt: 15,
  clearAt: 5, // ours
  maxGapS: 3 * 1200, // three intervals (§5.1 "offline after 3 missed intervals")
})

// domain.md §5.2 defaults: slow leak = −0.1 bar/day sustained for 3 days.
export const pressureFalling = parse({
  kind: 'trend',
  id: 'boiler-pressure-falling',
  title: 'Boiler pressure falling',
  text: 'The heating system is slowly losing pressure, which usually means a small leak. Book a check before the boiler stops.',
  severity: 'warning',
  field: 'pressureBar',
  windowS: 3 * 86_400,
  minSpanS: 3 * 86_400,
  per: 'day',
  direction: 'below',
  raiseAt: -0.1,
  clearAt: -0.05, // ours
})

// domain.md §5.3 "Building-regs moisture criterion": RH ≤ 70 % except ≤ 2 h in any 12 h.
export const dampRisk = parse({
  kind: 'window',
  id: 'damp-mould-risk',
  title: 'Damp and mould risk',
  text: 'The air in this room has stayed very humid for hours. This is a sign of a damp risk in the home, not of how people live in it.',
  severity: 'warning',
  field: 'humidity',
  direction: 'above',
  level: 70,
  moreThanS: 2 * 3600,
  windowS: 12 * 3600,
})

// domain.md §5.2 defaults: "escalate after 3 lockouts in 24 h"; critical per issue 9.
export const lockoutsRepeated = parse({
  kind: 'count',
  id: 'boiler-lockouts-repeated',
  title: 'Boiler keeps locking out',
  text: 'The boiler has shut itself down three or more times in a day. An engineer is needed.',
  severity: 'critical',
  field: 'lockout',
  level: 1,
  atLeast: 3,
  windowS: 86_400,
})

// domain.md §3.3 item 11 (overflow before the next collection); §5.1 lid-open glitches read near empty for one sample.
export const binBeforeCollection = parse({
  kind: 'forecast',
  id: 'bin-full-before-collection',
  title: 'Bin will overflow before collection',
  text: 'At its current rate this bin will be full before its next collection.',
  severity: 'warning',
  field: 'fillingLevel',
  level: 1,
  windowS: 3 * 86_400, // ours
  minPoints: 6, // ours
  minSpanS: 6 * 3600, // ours
  resetJump: 0.3, // ours
})

// domain.md §3.5 item 20 and §5.4 "Out-of-hours": 02:00–04:00 demand against the lower decile; 28 nights per issue 9.
export const outOfHours = parse({
  kind: 'baseline',
  id: 'energy-out-of-hours',
  title: 'Energy used out of hours',
  text: 'This building used more power overnight than it normally does. Something may have been left on.',
  severity: 'info',
  field: 'demandKw',
  from: '02:00',
  to: '04:00',
  quantile: 0.1,
  periods: 28,
  minPeriods: 7, // ours
  marginRatio: 0.2, // ours
  forS: 3600, // ours: two half-hours
})

// domain.md §5.4 "Baseline method": weekday profile with tolerance; 4 to 8 weeks per issue 9.
export const aboveBaseline = parse({
  kind: 'baseline',
  id: 'energy-above-baseline',
  title: 'Energy use above normal',
  text: 'This building used more energy today than on a usual day like it.',
  severity: 'info',
  field: 'demandKw',
  sameWeekday: true,
  periods: 8,
  minPeriods: 4,
  quantile: 0.5,
  marginRatio: 0.15, // ours
  compare: 'period',
})

// domain.md §5.1 defaults: offline after 3 missed intervals.
export const offline = parse({
  kind: 'silence',
  id: 'device-offline',
  title: 'Device not reporting',
  text: 'This sensor has stopped sending readings. It may need new batteries or a signal check.',
  severity: 'warning',
  missed: 3,
})

// domain.md §5.1 defaults: fire = over 60 °C or a rise over 15 °C between readings: one alert from either.
export const binFire = parse({
  kind: 'any',
  id: 'bin-fire',
  title: 'Possible bin fire',
  text: 'The temperature inside this bin is very high or rose sharply. Treat it as a possible fire.',
  severity: 'critical',
  field: 'temperature',
  of: [
    {
      kind: 'threshold',
      id: 'hot',
      title: 'Over 60 °C',
      text: 'Over 60 °C inside the bin.',
      severity: 'critical',
      field: 'temperature',
      direction: 'above',
      raiseAt: 60,
      clearAt: 45,
    },
    { ...binFireRise, id: 'rising' },
  ],
})

export const EXAMPLES: Rule[] = [
  binFire,
  binFull,
  boilerNoHeat,
  binFireRise,
  pressureFalling,
  dampRisk,
  lockoutsRepeated,
  binBeforeCollection,
  outOfHours,
  aboveBaseline,
  offline,
]
