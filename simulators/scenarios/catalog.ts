import { D, H, type Scenario, scenario, SCENARIO_EPOCH as T0 } from './scenario.ts'

const quiet = { outlierRate: 0, lidOpenRate: 0 }

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
    description: 'A slow leak (-0.15 bar/day) takes a boiler from 1.3 bar to below the 0.5 bar lockout over a week.',
    durationMs: 8 * D,
    devices: [
      { key: 'leaking', type: 'boiler', options: { coldPressure: 1.3, leakFrom: T0 + 6 * H, leakBarPerDay: 0.15 } },
      { key: 'healthy', type: 'boiler', options: { coldPressure: 1.2 } },
    ],
    about: [
      { device: 'leaking', rule: 'boiler-pressure-low' },
      { device: 'leaking', rule: 'boiler-pressure-critical' },
      { device: 'leaking', rule: 'boiler-lockout' },
    ],
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
        options: { peakW: 30_000, baseShare: 0.15, missed: { from: T0 + 2 * D + 2 * H, to: T0 + 2 * D + 8 * H } },
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
]

export const scenarioByName = (name: string) => SCENARIOS.find((s) => s.name === name)
