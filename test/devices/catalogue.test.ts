import { describe, expect, it } from 'vitest'
import { CollectionSchedule, DEVICE_TYPES, type DeviceTypeDef, evaluateReading, newDeviceRuleState, Rule, retireRules } from '#devices'

const MIN = 60_000
const H = 60 * MIN
const T0 = Date.UTC(2026, 10, 2) // Monday 2 Nov 2026, GMT

/** Feeds readings to a type's catalogue as the engine does and lists [time, rule, transition]. */
function run(def: DeviceTypeDef, readings: [number, Record<string, unknown>][], extra?: Record<string, number>) {
  const s = newDeviceRuleState()
  return readings.flatMap(([t, r]) => evaluateReading(def.rules, def, s, t, r, { extra }).map((x) => [t, x.rule.id, x.transition] as const))
}
const ids = (out: ReturnType<typeof run>) => out.map(([, id, tr]) => `${id} ${tr}`)

const bin = (fill: number, temperature = 12, tilted = false) => ({ fillingLevel: fill, temperature, batteryPct: 80, tilted })
const every = (ms: number, values: Record<string, unknown>[], from = T0): [number, Record<string, unknown>][] =>
  values.map((v, i) => [from + i * ms, v])

describe('bin catalogue', () => {
  it('bin-full: two readings over 95 % raise; a lid-open glitch does not clear; two under 70 % do', () => {
    const out = run(
      DEVICE_TYPES.bin,
      every(
        20 * MIN,
        [0.96, 0.5, 0.96, 0.97, 0.02, 0.97, 0.5, 0.4].map((f) => bin(f)),
      ),
    )
    expect(ids(out).filter((x) => x.startsWith('bin-full '))).toEqual(['bin-full raised', 'bin-full cleared'])
  })

  it('bin-fire raises on a rise of more than 15 °C between readings, below 60 °C, with no debounce', () => {
    const out = run(DEVICE_TYPES.bin, every(20 * MIN, [bin(0.3, 12), bin(0.3, 29), bin(0.3, 30)]))
    expect(out).toEqual([[T0 + 20 * MIN, 'bin-fire', 'raised']])
  })

  it('bin-fire raises once at over 60 °C and clears only when no part is still active', () => {
    // 12 → 70: both parts raise at once (one alert); 72: still hot, but no longer rising (minute 40);
    // 40: under 45 °C. The rise part clears an hour after the rise stopped (minute 100), and only then the alert.
    const temps = [12, 70, 72, 40, 35, 30, 28]
    const out = run(
      DEVICE_TYPES.bin,
      every(
        20 * MIN,
        temps.map((c) => bin(0.3, c)),
      ),
    )
    expect(out.map(([t, id, tr]) => [(t - T0) / MIN, id, tr])).toEqual([
      [20, 'bin-fire', 'raised'],
      [100, 'bin-fire', 'cleared'],
    ])
  })

  it('a 15 °C rise over a silence longer than three intervals is no fire', () => {
    expect(
      run(DEVICE_TYPES.bin, [
        [T0, bin(0.3, 10)],
        [T0 + 5 * H, bin(0.3, 30)],
      ]),
    ).toEqual([])
  })

  it('a late reading (older than the newest evaluated) is not evaluated', () => {
    const out = run(DEVICE_TYPES.bin, [
      [T0 + H, bin(0.3, 70)],
      [T0, bin(0.3, 90)],
      [T0 + 2 * H, bin(0.3, 20)],
    ])
    expect(ids(out)).toEqual(['bin-fire raised', 'bin-fire cleared'])
  })
})

describe('bin catalogue: readings without temperature or tilt (sensors that lack them) are no information', () => {
  /** A bin reading with only the fields given: `undefined` leaves the field out, as a decoder does. */
  const partial = (temperature?: number, tilted?: boolean) => ({
    fillingLevel: 0.3,
    batteryPct: 80,
    ...(temperature !== undefined && { temperature }),
    ...(tilted !== undefined && { tilted }),
  })
  const at = (out: ReturnType<typeof run>) => out.map(([t, id, tr]) => [(t - T0) / MIN, id, tr])

  it('a reading without temperature between two hot ones does not clear bin-fire (nor raise it again)', () => {
    // 65 °C raises on the hot part alone (no rise: first reading); read as 0 °C, the gap would clear it
    // and 72 °C would then raise it again as a rise.
    const out = run(
      DEVICE_TYPES.bin,
      every(20 * MIN, [partial(65, false), partial(70, false), partial(undefined, false), partial(72, false)]),
    )
    expect(at(out)).toEqual([[0, 'bin-fire', 'raised']])
  })

  it('the rise is measured between readings that both have a temperature, across the one between without', () => {
    // 10 → (none) → 20: a 10 °C rise, no fire. Read as 0 °C the gap would make it a 20 °C rise.
    expect(run(DEVICE_TYPES.bin, every(20 * MIN, [partial(10), partial(), partial(20)]))).toEqual([])
    // 10 → (none) → 30: a 20 °C rise over 40 minutes (within three intervals) is a fire.
    expect(at(run(DEVICE_TYPES.bin, every(20 * MIN, [partial(10), partial(), partial(30)])))).toEqual([[40, 'bin-fire', 'raised']])
    // A sensor that never measures temperature never raises bin-fire, whatever else it reports.
    expect(
      run(
        DEVICE_TYPES.bin,
        every(
          20 * MIN,
          [0.3, 0.96, 0.97, 0.99].map((f) => ({ fillingLevel: f, batteryPct: 80 })),
        ),
      ).map(([, id]) => id),
    ).not.toContain('bin-fire')
  })

  it('bin-knocked-over: a reading without tilt neither advances nor resets the two-reading run, nor clears it', () => {
    // Tilted, (none), tilted: the second measured tilt raises; read as upright the run would restart,
    // counted as a tilt it would raise at the gap.
    const rising = run(DEVICE_TYPES.bin, every(20 * MIN, [partial(10, true), partial(10), partial(10), partial(10, true)]))
    expect(at(rising)).toEqual([[60, 'bin-knocked-over', 'raised']])
    // Raised, then readings without tilt keep it open; only an upright reading clears it.
    const open = run(DEVICE_TYPES.bin, every(20 * MIN, [partial(10, true), partial(10, true), partial(10), partial(), partial(10, false)]))
    expect(at(open)).toEqual([
      [20, 'bin-knocked-over', 'raised'],
      [80, 'bin-knocked-over', 'cleared'],
    ])
  })

  it('a sensor without tilt still has its collections found from the level alone', () => {
    const s = newDeviceRuleState()
    const levels = [0.7, 0.72, 0.74, 0.02, 0.03]
    levels.forEach((f, i) => {
      evaluateReading(DEVICE_TYPES.bin.rules, DEVICE_TYPES.bin, s, T0 + i * 20 * MIN, { fillingLevel: f, batteryPct: 80 })
    })
    expect(s.collection?.lastAt).toBe(T0 + 3 * 20 * MIN)
  })
})

const boiler = (p: number, hot: boolean, more: Record<string, unknown> = {}) => ({
  flowTemp: hot ? 65 : 22,
  returnTemp: hot ? 50 : 21,
  pressureBar: p,
  burnerOn: hot,
  lockout: false,
  ...more,
})

describe('boiler catalogue', () => {
  it('boiler-pressure-low is judged on cold readings: hot readings neither raise nor clear it', () => {
    const seq = [boiler(0.75, false), boiler(1.25, true), boiler(0.74, false), boiler(1.24, true), boiler(0.74, false)]
    expect(ids(run(DEVICE_TYPES.boiler, every(5 * MIN, seq)))).toEqual(['boiler-pressure-low raised'])
  })

  it('expansion vessel: normal cold, over 2.5 bar hot', () => {
    const seq = [boiler(1.2, false), boiler(2.7, true), boiler(2.8, true), boiler(1.2, false)]
    expect(ids(run(DEVICE_TYPES.boiler, every(5 * MIN, seq)))).toEqual(['boiler-expansion-vessel raised'])
  })

  it('boiler-lockouts-repeated: the third lockout episode in 24 hours, not the third lockout reading', () => {
    const lock = (on: boolean) => boiler(1.2, false, { lockout: on })
    const seq = [lock(true), lock(true), lock(true), lock(false), lock(true), lock(false), lock(true)]
    const out = ids(run(DEVICE_TYPES.boiler, every(H, seq)))
    expect(out.filter((x) => x.startsWith('boiler-lockouts-repeated'))).toEqual(['boiler-lockouts-repeated raised'])
    expect(run(DEVICE_TYPES.boiler, every(H, seq)).find(([, id]) => id === 'boiler-lockouts-repeated')![0]).toBe(T0 + 6 * H)
  })

  const cold = (more: Record<string, unknown>) => boiler(1.2, false, { heatingDemand: true, flowTemp: 25, ...more })

  it('boiler-no-heat: heating demanded, flow under 35 °C for 60 minutes while under 5 °C outside', () => {
    const seq = Array.from({ length: 14 }, () => cold({ outsideTemp: 2 }))
    const out = run(DEVICE_TYPES.boiler, every(5 * MIN, seq))
    expect(out.filter(([, id]) => id === 'boiler-no-heat')).toEqual([[T0 + 60 * MIN, 'boiler-no-heat', 'raised']])
  })

  it('boiler-no-heat: a break in demand starts the hour again; mild weather raises nothing', () => {
    const seq = [...Array.from({ length: 10 }, () => cold({ outsideTemp: 2 })), cold({ outsideTemp: 2, heatingDemand: false })]
    const more = Array.from({ length: 10 }, () => cold({ outsideTemp: 2 }))
    expect(run(DEVICE_TYPES.boiler, every(5 * MIN, [...seq, ...more])).filter(([, id]) => id === 'boiler-no-heat')).toEqual([])
    const mild = Array.from({ length: 20 }, () => cold({ outsideTemp: 9 }))
    expect(run(DEVICE_TYPES.boiler, every(5 * MIN, mild))).toEqual([])
  })

  it("boiler-no-heat takes the site's outside temperature when the boiler has none of its own", () => {
    const seq = Array.from({ length: 14 }, () => cold({}))
    expect(run(DEVICE_TYPES.boiler, every(5 * MIN, seq), { outsideTemp: 1 }).map(([, id]) => id)).toEqual(['boiler-no-heat'])
    // The boiler's own OpenTherm sensor wins over the site's.
    const own = Array.from({ length: 14 }, () => cold({ outsideTemp: 12 }))
    expect(run(DEVICE_TYPES.boiler, every(5 * MIN, own), { outsideTemp: 1 })).toEqual([])
  })
})

describe('room catalogue: damp-mould-risk', () => {
  const room = (humidity: number) => ({ temperature: 19, humidity })

  it('a shower spike that decays within the hour raises nothing', () => {
    const day = Array.from({ length: 96 }, (_, i) => {
      const m = i * 15
      // 07:00 shower: 94 %, 85 %, 72 %, then back to 55 %.
      const spike = { 420: 94, 435: 85, 450: 72 }[m]
      return room(spike ?? 55)
    })
    expect(run(DEVICE_TYPES.room, every(15 * MIN, day))).toEqual([])
  })

  it('over 70 % for more than 2 hours in 12 raises; the alert names it', () => {
    const night = Array.from({ length: 16 }, (_, i) => room(i < 10 ? 74 : 60))
    const out = run(DEVICE_TYPES.room, every(15 * MIN, night))
    expect(ids(out)).toEqual(['damp-mould-risk raised'])
    expect(out[0]![0]).toBe(T0 + 9 * 15 * MIN)
  })

  it('wording describes the home, never blames the people in it', () => {
    const rule = DEVICE_TYPES.room.rules[0]!
    expect(rule.text).not.toMatch(/lifestyle|drying clothes|your fault|you should/i)
  })
})

describe('meter catalogue', () => {
  const meter = (energyWh: number, powerW = 20_000) => ({ energyWh, powerW })

  it('a catch-up after missed reads and a register rollover raise nothing', () => {
    const flat: [number, Record<string, unknown>][] = []
    let e = 1e9
    for (let i = 0; i < 48 * 12; i++) {
      const t = T0 + i * 30 * MIN
      if (i > 100 && i < 112) {
        e += 10_000
        continue // missed reads; the register still counts
      }
      if (i === 300) e = 500 // replaced or rolled-over register
      e += 10_000
      flat.push([t, meter(e)])
    }
    expect(run(DEVICE_TYPES.meter, flat)).toEqual([])
  })

  it('every catalogue rule parses as data (the same schema the API validates overrides with)', () => {
    for (const def of Object.values(DEVICE_TYPES)) for (const r of def.rules) expect(Rule.safeParse(r).success).toBe(true)
  })
})

describe('bin catalogue with a collection schedule', () => {
  const schedule = CollectionSchedule.parse({ weekdays: [4], time: '07:00' }) // Thursdays
  const runWith = (readings: [number, Record<string, unknown>][]) => {
    const s = newDeviceRuleState()
    const out = readings.flatMap(([t, r]) =>
      evaluateReading(DEVICE_TYPES.bin.rules, DEVICE_TYPES.bin, s, t, r, { schedule }).map((x) => [t, x.rule.id, x.transition] as const),
    )
    return { out, state: s }
  }
  // Two-hourly readings from Monday 2 Nov 2026 00:00 for `days`, fill from `start` at `perDay`, emptied at `emptyAt`.
  const fills = (days: number, start: number, perDay: number, emptyAt?: number) => {
    const out: [number, Record<string, unknown>][] = []
    let f = start
    for (let t = T0; t < T0 + days * 24 * H; t += 2 * H) {
      if (emptyAt !== undefined && t >= emptyAt && t < emptyAt + 2 * H) f = 0.02
      out.push([t, bin(Math.min(1, f))])
      f += perDay / 12
    }
    return out
  }

  it('bin-full-before-collection: raised days before Thursday when the fill rate says it will be full first', () => {
    const { out } = runWith(fills(3, 0.3, 0.3))
    const first = out.find(([, id]) => id === 'bin-full-before-collection')
    expect(first?.[2]).toBe('raised')
    // Raised on Monday or Tuesday, well before it is full (Wednesday afternoon) and before Thursday's round.
    expect(first![0]).toBeLessThan(T0 + 2 * 24 * H)
  })

  it('a slow bin that will last until Thursday raises nothing', () => {
    expect(runWith(fills(3, 0.1, 0.1)).out).toEqual([])
  })

  it('bin-not-collected: Thursday ends with no collection while the bin is over half full; a collection clears it', () => {
    const thursdayEnd = T0 + 4 * 24 * H
    const { out } = runWith(fills(6, 0.3, 0.08, T0 + 5 * 24 * H + 10 * H))
    expect(out.filter(([, id]) => id === 'bin-not-collected')).toEqual([
      [thursdayEnd, 'bin-not-collected', 'raised'],
      [T0 + 5 * 24 * H + 10 * H, 'bin-not-collected', 'cleared'],
    ])
  })

  it('emptied on Thursday morning: no bin-not-collected, and the collection is recorded in the state', () => {
    const { out, state } = runWith(fills(6, 0.3, 0.08, T0 + 3 * 24 * H + 8 * H))
    expect(out.filter(([, id]) => id === 'bin-not-collected')).toEqual([])
    expect(state.collection?.lastAt).toBe(T0 + 3 * 24 * H + 8 * H)
  })
})

describe('what the hostile review found', () => {
  it('boiler-no-heat clears once the boiler heats again, even when it has turned mild', () => {
    const s = newDeviceRuleState()
    const def = DEVICE_TYPES.boiler
    const cold = { flowTemp: 25, returnTemp: 22, pressureBar: 1.2, burnerOn: false, lockout: false, heatingDemand: true, outsideTemp: 1 }
    const out: string[] = []
    let t = T0
    for (let i = 0; i < 14; i++, t += 5 * MIN)
      out.push(...evaluateReading(def.rules, def, s, t, cold).map((x) => `${x.rule.id} ${x.transition}`))
    const warmMild = { ...cold, flowTemp: 65, returnTemp: 50, burnerOn: true, outsideTemp: 9 }
    out.push(...evaluateReading(def.rules, def, s, t, warmMild).map((x) => `${x.rule.id} ${x.transition}`))
    expect(out).toEqual(['boiler-no-heat raised', 'boiler-no-heat cleared'])
  })

  it('a rule switched off for a device ends its open alert at the next reading', () => {
    const s = newDeviceRuleState()
    const rules = DEVICE_TYPES.bin.rules
    evaluateReading(rules, DEVICE_TYPES.bin, s, T0, bin(0.97))
    expect(evaluateReading(rules, DEVICE_TYPES.bin, s, T0 + 20 * MIN, bin(0.97)).map((x) => x.rule.id)).toEqual(['bin-full'])
    const without = rules.filter((r) => r.id !== 'bin-full')
    evaluateReading(without, DEVICE_TYPES.bin, s, T0 + 40 * MIN, bin(0.98))
    expect(retireRules(without, s)).toEqual(['bin-full'])
    expect(s.rules['bin-full']).toBeUndefined()
  })
})

describe('collections and the forecast', () => {
  const daily = CollectionSchedule.parse({ weekdays: [1, 2, 3, 4, 5, 6, 7], time: '07:00' })
  const weekly = CollectionSchedule.parse({ weekdays: [1], time: '07:00' })
  const runWith = (schedule: CollectionSchedule, readings: [number, Record<string, unknown>][]) => {
    const s = newDeviceRuleState()
    return readings.flatMap(([t, r]) =>
      evaluateReading(DEVICE_TYPES.bin.rules, DEVICE_TYPES.bin, s, t, r, { schedule }).map((x) => [t, x.rule.id, x.transition] as const),
    )
  }

  it('bin-not-collected stays raised day after day until the bin is emptied (it does not flap at the next collection time)', () => {
    const rs: [number, Record<string, unknown>][] = []
    for (let t = T0 + 8 * H; t < T0 + 4 * 24 * H; t += H) rs.push([t, bin(0.6)])
    const out = runWith(daily, rs).filter(([, id]) => id === 'bin-not-collected')
    // First heard Monday 08:00, so Monday is not judged; Tuesday is the first collection day that ends unemptied.
    expect(out).toEqual([[T0 + 48 * H, 'bin-not-collected', 'raised']])
  })

  it('a collection resets the fill rate: no "will overflow" straight after emptying, even for a wasted trip', () => {
    // Filling 0.1 a day, emptied on Monday 7 Dec at 0.30 (a wasted trip): the old rate says nothing about the new fill.
    const rs: [number, Record<string, unknown>][] = []
    let f = 0.02
    for (let t = T0 + 8 * H; t < T0 + 9 * 24 * H; t += H) {
      if (t === T0 + 7 * 24 * H + 8 * H) f = 0.02
      rs.push([t, bin(Math.round(f * 1000) / 1000)])
      f += 0.1 / 24
    }
    const after = runWith(weekly, rs).filter(([t, id]) => id === 'bin-full-before-collection' && t >= T0 + 7 * 24 * H)
    expect(after.filter(([, , tr]) => tr === 'raised')).toEqual([])
  })
})

describe('bin-battery-low with days left', () => {
  it('is raised when the battery will be at 20 % within two weeks, says when it will be empty, and a new battery clears it', () => {
    const s = newDeviceRuleState()
    const def = DEVICE_TYPES.bin
    // 1 % a day from 40 %, read hourly: 20 % in 20 days, so it is raised 6 days in; empty 40 days from the start.
    const out: { t: number; id: string; tr: string; detail?: Record<string, unknown> }[] = []
    for (let h = 0; h <= 10 * 24; h++) {
      const t = T0 + h * H
      for (const x of evaluateReading(def.rules, def, s, t, { ...bin(0.3), batteryPct: Math.round((40 - h / 24) * 100) / 100 })) {
        out.push({ t, id: x.rule.id, tr: x.transition, detail: x.detail })
      }
    }
    const raised = out.find((o) => o.id === 'bin-battery-low')!
    expect(raised.tr).toBe('raised')
    expect(Math.abs(raised.t - (T0 + 6 * 24 * H))).toBeLessThanOrEqual(H)
    expect(Math.abs((raised.detail!.emptyAt as number) - (T0 + 40 * 24 * H))).toBeLessThan(H)
    // Swapped: the reading after the new battery confirms the jump and ends the alert.
    const t1 = T0 + 10 * 24 * H
    expect(evaluateReading(def.rules, def, s, t1 + H, { ...bin(0.3), batteryPct: 100 })).toEqual([])
    expect(evaluateReading(def.rules, def, s, t1 + 2 * H, { ...bin(0.3), batteryPct: 100 }).map((x) => [x.rule.id, x.transition])).toEqual([
      ['bin-battery-low', 'cleared'],
    ])
  })
})
