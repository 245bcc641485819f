import { D, H, type Scenario, scenario, SCENARIO_EPOCH as T0 } from './scenario.ts'

const quiet = { outlierRate: 0, lidOpenRate: 0 }
const M = 60_000
/** Tuesday and Wednesday of the first week, fully cold from Tuesday 00:00 to Thursday 00:00. */
const coldSnap = { from: T0 + D, to: T0 + 3 * D, lowC: -4, highC: 2 }
const STREET = [1, 2, 3, 4, 5, 6].map((i) => `street-${i}`)

export const SCENARIOS: Scenario[] = [
  scenario({
    name: 'normal-week',
    description: 'A week of ordinary bins, boilers and meters: no faults, but busy bins fill up before their collection day.',
    durationMs: 7 * D,
    devices: [
      { key: 'busy-market', type: 'bin', options: { ratePerDay: 0.3, startFill: 0.3, collectionDays: [5] } },
      { key: 'busy-office', type: 'bin', options: { commercial: true, ratePerDay: 0.35, startFill: 0.2, collectionDays: [4] } },
      ...[1, 2, 3, 4, 5, 6].map((i) => ({ key: `bin-${i}`, type: 'bin' as const, options: { ratePerDay: 0.05 + i * 0.02 } })),
      ...[1, 2, 3, 4].map((i) => ({ key: `boiler-${i}`, type: 'boiler' as const })),
      ...[1, 2, 3].map((i) => ({ key: `meter-${i}`, type: 'meter' as const, options: { peakW: 20_000 + i * 10_000 } })),
    ],
    about: [
      { device: 'busy-market', rule: 'bin-full' },
      { device: 'busy-office', rule: 'bin-full' },
    ],
    onlyRules: ['bin-full'],
  }),
  scenario({
    name: 'bin-fire',
    description: 'A bin catches fire on Tuesday morning and burns for two hours.',
    durationMs: 3 * D,
    devices: [
      { key: 'fire', type: 'bin', options: { ...quiet, ratePerDay: 0.1, startFill: 0.3, fireAt: T0 + D + 10 * H, fireMs: 2 * H } },
      { key: 'neighbour', type: 'bin', options: { ratePerDay: 0.1, startFill: 0.2 } },
    ],
    about: [{ device: 'fire', rule: 'bin-fire' }],
  }),
  scenario({
    name: 'bin-knocked-over',
    description: 'A bin is knocked over on Monday afternoon and lies on its side for three hours; collections only tilt for one reading.',
    durationMs: 3 * D,
    devices: [
      {
        key: 'knocked',
        type: 'bin',
        options: { ...quiet, ratePerDay: 0.1, startFill: 0.3, knockedAt: T0 + 14 * H, knockedMs: 3 * H, collectionDays: [2] },
      },
      { key: 'upright', type: 'bin', options: { ratePerDay: 0.1, startFill: 0.2, collectionDays: [2] } },
    ],
    about: [{ device: 'knocked', rule: 'bin-knocked-over' }],
  }),
  scenario({
    name: 'boiler-pressure-loss',
    description:
      'A slow leak (-0.15 bar/day) takes a boiler from 1.3 bar to below the 0.5 bar lockout over a week. Pressure is judged cold (burner off, flow under 40 °C), so the daily swing of about 0.5 bar when hot does not make low pressure flap: it is raised once.',
    durationMs: 8 * D,
    devices: [
      { key: 'leaking', type: 'boiler', options: { coldPressure: 1.3, leakFrom: T0 + 6 * H, leakBarPerDay: 0.15 } },
      { key: 'healthy', type: 'boiler', options: { coldPressure: 1.2 } },
    ],
    about: [
      { device: 'leaking', rule: 'boiler-pressure-falling' },
      { device: 'leaking', rule: 'boiler-pressure-low' },
      { device: 'leaking', rule: 'boiler-pressure-critical' },
      { device: 'leaking', rule: 'boiler-lockout' },
    ],
    onlyRules: ['boiler-pressure-falling', 'boiler-pressure-low', 'boiler-pressure-critical', 'boiler-lockout'],
  }),
  scenario({
    name: 'boiler-lockouts',
    description: 'Three ignition lockouts with manufacturer codes (Worcester EA227, Vaillant F.28, Worcester EA229).',
    durationMs: 4 * D,
    devices: [
      {
        key: 'locking',
        type: 'boiler',
        options: {
          coldPressure: 1.2,
          lockouts: [
            { at: T0 + D + 7 * H, code: 'EA227' },
            { at: T0 + 2 * D + 18 * H, code: 'F.28' },
            { at: T0 + 3 * D + 7.5 * H, code: 'EA229', ms: 45 * 60_000 },
          ],
        },
      },
      { key: 'fine', type: 'boiler', options: { coldPressure: 1.2 } },
    ],
    about: [{ device: 'locking', rule: 'boiler-lockout' }],
  }),
  scenario({
    name: 'meter-spike',
    description:
      'A building draws 150 kW extra for two hours; another misses six hours of reads and catches up in one period (a single spike, no alert).',
    durationMs: 4 * D,
    devices: [
      {
        key: 'surge',
        type: 'meter',
        options: { peakW: 40_000, baseShare: 0.2, surge: { at: T0 + D + 11 * H, ms: 2 * H, extraW: 150_000 } },
      },
      {
        key: 'gappy',
        type: 'meter',
        options: { peakW: 30_000, baseShare: 0.15, missed: [{ from: T0 + 2 * D + 2 * H, to: T0 + 2 * D + 8 * H }] },
      },
      { key: 'night-owl', type: 'meter', options: { peakW: 30_000, baseShare: 0.15, lightsLeftOn: [T0 + 18 * H] } },
    ],
    about: [{ device: 'surge', rule: 'meter-demand-high' }],
  }),
  scenario({
    name: 'device-goes-silent',
    description: 'One of two bins stops reporting; after three missed intervals it is reported offline.',
    // Paced: one 20-minute interval per real second, so three missed intervals are three real seconds.
    paced: 1200,
    durationMs: 8 * 20 * 60_000,
    devices: [
      { key: 'quiet', type: 'bin', options: { ...quiet, ratePerDay: 0.1, startFill: 0.2 } },
      { key: 'chatty', type: 'bin', options: { ...quiet, ratePerDay: 0.1, startFill: 0.2 } },
    ],
    silentFrom: { quiet: T0 + 2 * 20 * 60_000 },
    about: [{ device: 'quiet', rule: 'device-offline' }],
  }),
  scenario({
    name: 'bad-devices',
    description: 'Devices with broken firmware send malformed and hostile payloads between good readings; each ends in quarantine.',
    durationMs: D,
    devices: [
      { key: 'broken-bin', type: 'bin', options: { ratePerDay: 0.1, startFill: 0.2 } },
      { key: 'broken-boiler', type: 'boiler', options: { coldPressure: 1.2 } },
    ],
    inject: [
      { at: T0 + 1 * H, device: 'broken-bin', raw: () => '{"readings":{"fillingLevel":0.4,', code: 'PAYLOAD_NOT_JSON' },
      {
        at: T0 + 2 * H,
        device: 'broken-bin',
        raw: (ts) => JSON.stringify({ ts, readings: { fillingLevel: '40%', temperature: 9, batteryPct: 80, tilted: false } }),
        code: 'PAYLOAD_INVALID',
      },
      {
        at: T0 + 3 * H,
        device: 'broken-bin',
        raw: (ts) => JSON.stringify({ ts, readings: { fillingLevel: 4.2, temperature: 9, batteryPct: 80, tilted: false } }),
        code: 'PAYLOAD_INVALID',
      },
      {
        at: T0 + 4 * H,
        device: 'broken-bin',
        raw: (ts) => JSON.stringify({ ts: ts + 3_600_000, readings: { fillingLevel: 0.4, temperature: 9, batteryPct: 80, tilted: false } }),
        code: 'TIMESTAMP_OUT_OF_WINDOW',
      },
      { at: T0 + 5 * H, device: 'broken-bin', raw: () => `${'['.repeat(9_000)}${']'.repeat(9_000)}`, code: 'PAYLOAD_TOO_LARGE' },
      {
        at: T0 + 6 * H,
        device: 'broken-boiler',
        raw: (ts) =>
          JSON.stringify({
            ts,
            readings: { flowTemp: 60, returnTemp: 45, pressureBar: 1.4, burnerOn: true, lockout: false, firmware: '1.2' },
          }),
        code: 'PAYLOAD_INVALID',
      },
      {
        at: T0 + 7 * H,
        device: 'broken-boiler',
        raw: (ts) => JSON.stringify([{ bn: 'urn:dev:sp:x:', bt: ts / 1000, n: 'pressureBar', u: 'Pa', v: 140_000 }]),
        code: 'PAYLOAD_INVALID',
      },
      { at: T0 + 8 * H, device: 'broken-boiler', raw: () => '{"readings":{"pressureBar":NaN}}', code: 'PAYLOAD_NOT_JSON' },
    ],
    about: [],
  }),
  scenario({
    name: 'boiler-slow-leak',
    description:
      'A boiler holds 1.5 bar for two days, then leaks slowly (-0.12 bar/day): the falling pressure is seen days before it is low.',
    durationMs: 9 * D,
    devices: [
      { key: 'leaking', type: 'boiler', options: { coldPressure: 1.5, leakFrom: T0 + 2 * D, leakBarPerDay: 0.12 } },
      { key: 'steady', type: 'boiler', options: { coldPressure: 1.3 } },
    ],
    about: [
      { device: 'leaking', rule: 'boiler-pressure-falling' },
      { device: 'leaking', rule: 'boiler-pressure-low' },
    ],
    onlyRules: ['boiler-pressure-falling', 'boiler-pressure-low'],
  }),
  scenario({
    name: 'damp-home',
    description: "A cold, poorly ventilated home: the bedroom sensor and the boiler's room sensor read 72-80 % every night.",
    durationMs: 3 * D,
    devices: [
      { key: 'bedroom', type: 'room', options: { room: 'bedroom', risk: true } },
      { key: 'boiler', type: 'boiler', options: { coldPressure: 1.3, damp: true } },
    ],
    about: [
      { device: 'bedroom', rule: 'damp-mould-risk' },
      { device: 'boiler', rule: 'damp-mould-risk' },
    ],
    onlyRules: ['damp-mould-risk'],
  }),
  scenario({
    name: 'healthy-home',
    description: 'A warm, ventilated home for a week: showers and cooking make short humidity spikes that clear within the hour.',
    durationMs: 7 * D,
    devices: [
      { key: 'bedroom', type: 'room', options: { room: 'bedroom', risk: false } },
      { key: 'bathroom', type: 'room', options: { room: 'bathroom', risk: false } },
      { key: 'kitchen', type: 'room', options: { room: 'kitchen', risk: false } },
      { key: 'boiler', type: 'boiler', options: { coldPressure: 1.3 } },
    ],
    about: [],
    onlyRules: [],
  }),
  scenario({
    name: 'cold-snap',
    description:
      "A cold snap from Tuesday to Wednesday night (-4 to 2 °C). One boiler's condensate pipe freezes: three lockouts on Tuesday morning, then locked out from Tuesday evening until an engineer thaws it on Wednesday, with no heat. A neighbour's zone valve fails on Wednesday evening. A third home stays warm.",
    durationMs: 4 * D,
    devices: [
      {
        key: 'frozen',
        type: 'boiler',
        options: {
          coldPressure: 1.3,
          outside: { coldSnap },
          lockouts: [
            { at: T0 + D + 6 * H + 10 * M, code: '9F855', ms: 25 * M },
            { at: T0 + D + 7 * H, code: '9F855', ms: 25 * M },
            { at: T0 + D + 7 * H + 50 * M, code: '9F855', ms: 25 * M },
            { at: T0 + D + 17 * H + 5 * M, code: '9F855', ms: 19 * H },
          ],
        },
      },
      {
        key: 'valve',
        type: 'boiler',
        options: { coldPressure: 1.2, outside: { coldSnap }, noHeatFrom: T0 + 2 * D + 16 * H, noHeatUntil: T0 + 3 * D + 10 * H },
      },
      { key: 'warm', type: 'boiler', options: { coldPressure: 1.4, outside: { coldSnap } } },
    ],
    about: [
      { device: 'frozen', rule: 'boiler-lockout' },
      { device: 'frozen', rule: 'boiler-lockouts-repeated' },
      { device: 'frozen', rule: 'boiler-no-heat' },
      { device: 'valve', rule: 'boiler-no-heat' },
    ],
    onlyRules: ['boiler-lockout', 'boiler-lockouts-repeated', 'boiler-no-heat'],
  }),
  scenario({
    name: 'lights-left-on',
    description:
      "Two council buildings for twelve days. On the second Thursday the library's lights are left on overnight: its 02:00-04:00 demand is double its usual nights.",
    durationMs: 12 * D,
    devices: [
      { key: 'library', type: 'meter', options: { peakW: 40_000, baseShare: 0.15, lightsLeftOn: [T0 + 10 * D + 18 * H] } },
      { key: 'town-hall', type: 'meter', options: { peakW: 60_000, baseShare: 0.2 } },
    ],
    about: [{ device: 'library', rule: 'energy-out-of-hours' }],
    onlyRules: ['energy-out-of-hours'],
  }),
  scenario({
    name: 'meter-catch-up',
    description:
      "One meter misses its reads overnight (catching up at 03:00, inside the out-of-hours window) and for six hours the next day; another's register rolls over. Demand comes from the register over the real elapsed time, so nothing is raised.",
    durationMs: 12 * D,
    devices: [
      {
        key: 'gappy',
        type: 'meter',
        options: {
          peakW: 30_000,
          baseShare: 0.15,
          missed: [
            { from: T0 + 9 * D + 30 * M, to: T0 + 9 * D + 3 * H },
            { from: T0 + 10 * D + 9 * H, to: T0 + 10 * D + 15 * H },
          ],
        },
      },
      // A 6-digit kWh register (1,000,000 kWh) about nine days' use short of rolling over: it rolls during the second week.
      { key: 'rolling', type: 'meter', options: { peakW: 30_000, baseShare: 0.15, rolloverWh: 1e9, startWh: 1e9 - 2_950_000 } },
    ],
    about: [],
    onlyRules: [],
  }),
  scenario({
    name: 'gateway-outage',
    description:
      'The LoRaWAN gateway serving one street fails: its six bins go silent together, while the two bins on the next street carry on.',
    // Paced like device-goes-silent: one 20-minute interval per real second. Six devices, 75 % of the
    // scenario's own: an incident under the default policy (devices/alerts/incident.ts) by either count or share.
    paced: 1200,
    durationMs: 8 * 20 * 60_000,
    devices: [
      ...STREET.map((key) => ({ key, type: 'bin' as const, options: { ...quiet, ratePerDay: 0.1, startFill: 0.2 } })),
      ...['next-street-1', 'next-street-2'].map((key) => ({
        key,
        type: 'bin' as const,
        options: { ...quiet, ratePerDay: 0.1, startFill: 0.3 },
      })),
    ],
    silentFrom: Object.fromEntries(STREET.map((key) => [key, T0 + 2 * 20 * 60_000])),
    // One incident with these six grouped under it (plan.incidents); each still has its own device-offline
    // alert, stored under the incident but not announced one by one.
    about: STREET.map((device) => ({ device, rule: 'device-offline' })),
    onlyRules: ['device-offline'],
  }),
  scenario({
    name: 'bin-overflow-before-collection',
    description:
      'A busy bin on the Thursday round fills at 25 % a day from Monday: it will overflow before Thursday, and is flagged days ahead; its slower neighbour is not.',
    durationMs: 3 * D,
    devices: [
      { key: 'busy', type: 'bin', options: { ...quiet, ratePerDay: 0.25, startFill: 0.25, collectionDays: [4] } },
      { key: 'steady', type: 'bin', options: { ...quiet, ratePerDay: 0.08, startFill: 0.1, collectionDays: [4] } },
    ],
    rounds: [{ key: 'thursday', weekdays: [4], bins: ['busy', 'steady'] }],
    about: [{ device: 'busy', rule: 'bin-full-before-collection' }],
    onlyRules: ['bin-full-before-collection', 'bin-full'],
  }),
  scenario({
    name: 'missed-collection',
    description:
      'Two bins on the Tuesday round: the crew empties one on Tuesday morning and misses the other, which is over half full when Tuesday ends.',
    durationMs: 3 * D,
    devices: [
      { key: 'emptied', type: 'bin', options: { ...quiet, ratePerDay: 0.1, startFill: 0.45, collectionDays: [2] } },
      // collectionDays [] : the crew never comes.
      { key: 'missed', type: 'bin', options: { ...quiet, ratePerDay: 0.1, startFill: 0.45, collectionDays: [] } },
    ],
    rounds: [{ key: 'tuesday', weekdays: [2], bins: ['emptied', 'missed'] }],
    // The missed bin will also overflow before next Tuesday's collection: it is flagged for that too.
    about: [{ device: 'missed', rule: 'bin-not-collected' }],
    onlyRules: ['bin-not-collected', 'bin-full-before-collection'],
  }),
]

export const scenarioByName = (name: string) => SCENARIOS.find((s) => s.name === name)
