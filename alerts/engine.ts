import type { Logger } from 'pino'
import {
  type Alert,
  type AlertHistoryEntry,
  type AlertRule,
  type CollectionSchedule,
  type Device,
  type DeviceRuleState,
  type DeviceTypeDef,
  deviceTypeOf,
  evaluateReading,
  type ForecastOutlook,
  type ForecastState,
  forecastOutlook,
  type Incident,
  IncidentPolicy,
  initialRuleState,
  isActive,
  isIncident,
  isSilent,
  type LiveBus,
  newDeviceRuleState,
  OFFLINE_RULE,
  type ReadingRecord,
  type Rule,
  type RuleTransition,
  restoreDeviceState,
  restoreRuleState,
  retireRules,
  type Severity,
  type SilentDevice,
  silentTogether,
  tickRules,
} from '#devices'
import type { Batch } from '../log/cursor.ts'
import type { ReaderHandler } from '../log/reader.ts'
import type { Position } from '../log/segments.ts'

/** A raised alert to store: keyed by (device, rule, reading time), so a replay raises nothing twice. */
export interface RaiseInput {
  deviceId: string
  deviceType: string
  site: string
  rule: Pick<AlertRule, 'id' | 'title' | 'severity'> & { text?: string | undefined }
  value: number
  /** What the rule computed besides its value (forecast time, wasted kWh and cost, …), for people and the history. */
  detail?: Readonly<Record<string, number | boolean | null>> | undefined
  /** An offline alert grouped under an incident. */
  incidentId?: string | undefined
  /** Reading time, epoch ms. */
  ts: number
}
export interface ClearInput {
  deviceId: string
  ruleId: string
  /** Epoch ms. */
  at: number
  /** The reading that cleared it, when there is one, for the history. */
  value?: number | undefined
  /** What the rule computed by the end, when it says more than at the raise. */
  detail?: Readonly<Record<string, number | boolean | null>> | undefined
}

export interface AlertChange {
  action: 'raised' | 'cleared'
  alert: Alert
}

/** One batch of the engine: applied in a single transaction, or not at all. */
export interface EngineBatch {
  reader: string
  /** Where the reader is once this batch is applied; null leaves the saved checkpoint as it is. */
  checkpoint: Position | null
  /** [deviceId, state as JSON text]; a device listed twice keeps its last state. */
  states: ReadonlyArray<readonly [string, string]>
  raise: readonly RaiseInput[]
  clear: readonly ClearInput[]
  /** Cluster mode: the epoch this node holds the partition with; the store refuses the commit once a newer owner claimed it. */
  fence?: number
}

/** Incidents: many devices of one site silent together, one incident rather than an alert each. */
export interface IncidentPort {
  /**
   * Opens the site's incident, or finds the one open already (cluster mode: another partition's
   * engine saw the same silence first); its device counts come from the alerts grouped under it (see refresh).
   */
  openOrJoin(site: string, at: number, devices: number): Promise<{ incident: Incident; created: boolean }>
  /** Whether it is still open (cluster mode: another engine may have cleared it). */
  isOpen(id: string): Promise<boolean>
  openIncidents(): Promise<Incident[]>
  /** Recounts its devices and those still silent; clears it when none is. */
  refresh(id: string, at: number): Promise<Incident | null>
}

/** What the alert engine needs of the store: transitions, rule states and its checkpoint commit in one transaction. */
export interface AlertEngineStore {
  loadEngine(reader: string): Promise<{ checkpoint: Position | null; states: Map<string, string> }>
  open(): Promise<Alert[]>
  raise(input: RaiseInput): Promise<Alert | null>
  /** Raises an active alert's severity (its rule's escalation); null when it is no longer active (acknowledged, cleared). */
  escalate(id: string, to: Severity, at: number): Promise<{ alert: Alert; entry: AlertHistoryEntry } | null>
  commitBatch(batch: EngineBatch): Promise<AlertChange[]>
}

/** What the engine knows of a device from a reading: enough to pick its rules (catalogue plus overrides). */
export interface EngineDevice {
  id: string
  type: string
  site: string
}

export const ALERT_READER = 'alerts'
const COMMIT_EVERY_MS = 500
/** A site's outside temperature stands in for a boiler's own for this long (weather sensors report every 10 minutes). */
const SITE_VALUE_MAX_AGE_MS = 3 * 3_600_000
/** Site context is kept beside device state, under a key no device id can take (ids are [a-z0-9-]). */
const SITE_KEY = '@site:'

/** Values a site's devices supply to each other (a weather sensor's outside temperature): field → [reading time, value]. */
type SiteContext = Record<string, [number, number]>
type Stored = DeviceRuleState | SiteContext
/** Device states and site values share the saved map; a device's has `lastTs`, which no reading field is called. */
const isDevice = (v: Stored): v is DeviceRuleState => 'lastTs' in v && !Array.isArray(v.lastTs)

/** A forecast rule's outlook from a device's saved state; null when the rule is not a forecast or there is no state. */
function outlookOf(rule: Rule | undefined, saved: Stored | undefined): ForecastOutlook | null {
  if (rule?.kind !== 'forecast' || !saved || !isDevice(saved)) return null
  return forecastOutlook(rule, restoreRuleState(rule, saved.rules?.[rule.id]) as ForecastState)
}

/**
 * The same from the state as the store keeps it (JSON): cluster mode's answer for a device whose
 * partition another node reads, from what that node last committed.
 */
export function outlookOfStored(rule: Rule | undefined, json: string | undefined): ForecastOutlook | null {
  if (json === undefined) return null
  try {
    return outlookOf(rule, JSON.parse(json) as Stored)
  } catch {
    return null
  }
}

/** The open alert of a rule restored with no saved state (stored before rule state was): it starts active so it can clear. */
function activeState(rule: Rule): unknown {
  const s = initialRuleState(rule) as { active?: boolean; gate?: { active: boolean } }
  if (s.gate) s.gate.active = true
  else s.active = true
  return s
}

/**
 * Evaluates the rules of each durably accepted reading, as a reader of the log.
 * A batch's transitions, the rule states it changed and the checkpoint commit in
 * one transaction, so a crash neither loses nor doubles a transition; events go
 * to the bus only after the commit.
 */
export function createAlertEngine(deps: {
  store: AlertEngineStore
  bus: LiveBus
  /** The rules of a device: its type's catalogue with any site and device overrides applied. */
  rulesOf: (device: EngineDevice) => readonly Rule[]
  /** Device types (derived fields, site values); the catalogue by default. */
  typeOf?: (type: string) => DeviceTypeDef | undefined
  /** A bin's collection schedule (its own or its round's), if it has one. */
  scheduleOf?: (deviceId: string) => CollectionSchedule | null
  /** £ per kWh, to put a cost on energy wasted out of hours. */
  tariffPerKwh?: number
  /** Without it, every silent device is an alert of its own. */
  incidents?: IncidentPort
  incidentPolicy?: IncidentPolicy
  log: Logger
  now?: () => number
  /** Its checkpoint's name: one engine per partition of the replicated log in cluster mode (`alerts@p3`). */
  reader?: string
  /** The devices whose state and alerts are this engine's (cluster mode: those of its partition); all by default. */
  owns?: (deviceId: string) => boolean
  /** Cluster mode: the epoch of this node's lease on the partition (see store/reader-fences.ts). */
  fence?: number
}) {
  const now = deps.now ?? Date.now
  const READER = deps.reader ?? ALERT_READER
  const owns = deps.owns ?? (() => true)
  const typeOf = deps.typeOf ?? deviceTypeOf
  // `states` is what the store holds; `pending` what batches changed since the last commit. Values are
  // parsed JSON until a device's first reading checks them against its rules (`checked`).
  const states = new Map<string, Stored>()
  const pending = new Map<string, Stored>()
  const checked = new Set<string>()
  let committedAt: Position | null = null
  let lastCommit = 0
  // Devices with an open device-offline alert, and when it was raised: only a reading that arrived
  // after that clears it (a replay of older readings after a restart must not).
  const offline = new Map<string, number>()
  let lastEnd: Position | null = null
  // handle(), tick() and checkSilence() take turns: on a pooled store they would otherwise race on one alert.
  let turn: Promise<unknown> = Promise.resolve()
  const exclusive = <T>(fn: () => Promise<T>): Promise<T> => {
    const r = turn.then(fn, fn)
    turn = r.catch(() => {})
    return r
  }
  const heardAt = new Map<string, number>()
  // Cluster mode: site values from readings other partitions' engines read (noteSite). In memory only:
  // the row of a site's values belongs to the engine of the sensor's partition, which saves it.
  const elsewhereSite = new Map<string, SiteContext>()
  let startedAt = now()
  const policy = deps.incidentPolicy ?? IncidentPolicy.parse({})
  // The open incident of each site, and the devices whose offline alert is grouped under one.
  // `since`: when its devices were last heard (null after a restart: then it takes in no more devices).
  const siteIncident = new Map<string, { id: string; since: number | null }>()
  const grouped = new Map<string, string>()
  // Open alerts whose rule escalates: when (reading time + delay) and to what, until acknowledged or cleared.
  const escalations = new Map<string, { due: number; to: Severity }>()
  const watchEscalation = (a: Alert, rule: Rule | undefined) => {
    if (rule?.escalation && a.status === 'active' && a.severity !== rule.escalation.to) {
      escalations.set(a.id, { due: Date.parse(a.raisedAt) + rule.escalation.afterS * 1000, to: rule.escalation.to })
    }
  }

  type Working = Map<string, Stored>
  const copyOf = (v: Stored | undefined): Stored | undefined => {
    if (!v) return v
    if (isDevice(v)) return { ...v, rules: { ...v.rules }, ...(v.derived && { derived: { ...v.derived } }) }
    return { ...v }
  }

  const deviceState = (d: EngineDevice, rules: readonly Rule[], working: Working): DeviceRuleState => {
    let s = working.get(d.id) as DeviceRuleState | undefined
    if (!s) {
      const saved = pending.get(d.id) ?? states.get(d.id)
      s = saved ? (copyOf(saved) as DeviceRuleState) : newDeviceRuleState()
      if (saved && !checked.has(d.id)) s = restoreDeviceState(rules, s)
      checked.add(d.id)
      working.set(d.id, s)
    }
    return s
  }

  const siteOf = (site: string, working: Working): SiteContext => {
    const key = SITE_KEY + site
    let s = working.get(key) as SiteContext | undefined
    if (!s) {
      s = (copyOf(pending.get(key) ?? states.get(key)) as SiteContext | undefined) ?? {}
      working.set(key, s)
    }
    return s
  }

  // Energy wasted, in kWh and £ (issue 9), for baseline rules over kW demand (`priced`).
  const detailOf = (tr: RuleTransition) => {
    const detail = tr.detail
    if (!(tr.rule.kind === 'baseline' && tr.rule.priced && detail && typeof detail.excess === 'number')) return detail
    const kwh = Math.round(detail.excess * 10) / 10
    return {
      ...detail,
      wastedKwh: kwh,
      ...(deps.tariffPerKwh !== undefined && { costGbp: Math.round(kwh * deps.tariffPerKwh * 100) / 100 }),
    }
  }

  const collect = (d: EngineDevice, out: readonly RuleTransition[], raise: RaiseInput[], clear: ClearInput[]) => {
    for (const tr of out) {
      const detail = detailOf(tr)
      if (tr.transition === 'raised') {
        raise.push({ deviceId: d.id, deviceType: d.type, site: d.site, rule: tr.rule, value: tr.value, ts: tr.t, detail })
      } else clear.push({ deviceId: d.id, ruleId: tr.rule.id, at: tr.t, value: tr.value, detail })
    }
  }

  const evaluateRecord = (r: ReadingRecord, working: Working, raise: RaiseInput[], clear: ClearInput[]) => {
    const def = typeOf(r.type)
    if (def?.toSite) {
      let site: SiteContext | undefined
      for (const f of def.toSite) {
        const v = r.readings[f]
        if (typeof v !== 'number') continue
        site ??= siteOf(r.site, working)
        const had = site[f]
        if (!had || had[0] < r.ts) site[f] = [r.ts, v]
      }
    }
    const d: EngineDevice = { id: r.deviceId, type: r.type, site: r.site }
    const rules = deps.rulesOf(d)
    if (rules.length === 0) return
    const s = deviceState(d, rules, working)
    let extra: Record<string, number> | undefined
    if (def?.fromSite) {
      // Read, not taken into `working`: only a sensor's reading changes (and saves) its site's row.
      const key = SITE_KEY + r.site
      const site = ((working.get(key) ?? pending.get(key) ?? states.get(key)) as SiteContext | undefined) ?? {}
      const told = elsewhereSite.get(r.site)
      for (const f of def.fromSite) {
        const mine = site[f]
        const theirs = told?.[f]
        const o = mine && theirs ? (theirs[0] > mine[0] ? theirs : mine) : (mine ?? theirs)
        if (!o || Math.abs(r.ts - o[0]) > SITE_VALUE_MAX_AGE_MS) continue
        extra ??= {}
        extra[f] = o[1]
      }
    }
    const schedule = def?.collections && deps.scheduleOf ? deps.scheduleOf(r.deviceId) : null
    const out = evaluateReading(rules, def, s, r.ts, r.readings, { extra, schedule })
    if (out.length > 0) collect(d, out, raise, clear)
    for (const ruleId of retireRules(rules, s)) clear.push({ deviceId: d.id, ruleId, at: r.ts, value: 0 })
  }

  // An offline alert grouped under an incident is not announced on its own: the incident is.
  const emit = (event: 'alert:raised' | 'alert:cleared', alert: Alert | null) => {
    if (alert && !alert.incidentId) deps.bus.emit(event, alert)
  }
  const announce = (i: Incident | null) => {
    if (!i) return
    if (i.status === 'cleared') siteIncident.delete(i.site)
    deps.bus.emit(i.status === 'cleared' ? 'incident:cleared' : 'incident:updated', i)
  }

  const handler: ReaderHandler = {
    async load() {
      startedAt = now()
      const saved = await deps.store.loadEngine(READER)
      const open = (await deps.store.open()).filter((a) => owns(a.deviceId))
      states.clear()
      pending.clear()
      checked.clear()
      offline.clear()
      committedAt = saved.checkpoint
      for (const [id, json] of saved.states) if (id.startsWith(SITE_KEY) || owns(id)) states.set(id, JSON.parse(json) as Stored)
      siteIncident.clear()
      grouped.clear()
      escalations.clear()
      for (const i of (await deps.incidents?.openIncidents()) ?? []) siteIncident.set(i.site, { id: i.id, since: null })
      for (const a of open) {
        if (a.ruleId === OFFLINE_RULE.id) {
          offline.set(a.deviceId, Date.parse(a.raisedAt))
          if (a.incidentId) grouped.set(a.deviceId, a.incidentId)
          continue
        }
        const rule = deps.rulesOf({ id: a.deviceId, type: a.deviceType, site: a.site }).find((x) => x.id === a.ruleId)
        if (!rule) continue
        watchEscalation(a, rule)
        const s = (states.get(a.deviceId) as DeviceRuleState | undefined) ?? newDeviceRuleState()
        if (!s.rules) s.rules = {}
        if (!s.rules[a.ruleId]) s.rules[a.ruleId] = activeState(rule)
        states.set(a.deviceId, s)
      }
      return saved.checkpoint
    },
    handle: (batch: Batch) => exclusive(() => handleBatch(batch)),
    close: () => exclusive(savePending),
  }

  const serialise = () => [...pending].map(([id, s]) => [id, JSON.stringify(s)] as const)

  /** Saves rule state held back by skipped commits, with the position it belongs to. */
  async function savePending() {
    if (pending.size === 0 || !lastEnd) return
    await deps.store.commitBatch({ reader: READER, checkpoint: lastEnd, states: serialise(), raise: [], clear: [], fence: deps.fence })
    for (const [id, s] of pending) states.set(id, s)
    pending.clear()
    committedAt = lastEnd
  }

  /**
   * Commits what a batch (or a tick) changed. A batch with no transition need not be its own
   * transaction: rule state and checkpoint are saved together at most every COMMIT_EVERY_MS, and
   * a crash in between replays those batches to the same state.
   */
  async function commit(working: Working, raise: RaiseInput[], clear: ClearInput[], end: Position): Promise<Position> {
    lastEnd = end
    const full = now() - lastCommit >= COMMIT_EVERY_MS
    if (raise.length === 0 && clear.length === 0 && !full) {
      for (const [id, s] of working) pending.set(id, s)
      return committedAt ?? { segment: 0, offset: 0 }
    }
    const before = new Map([...working.keys()].map((id) => [id, pending.get(id)] as const))
    for (const [id, s] of working) pending.set(id, s)
    // A transition is stored at once, with the state of the devices it concerns but not the checkpoint:
    // every other device's state waits for the next full commit (at most COMMIT_EVERY_MS), so a stream of
    // alerts does not rewrite the whole fleet's state each time. After a crash the log is read again from
    // the checkpoint; a saved device state says which of its readings it has seen (lastTs), and a
    // transition stored twice is one (device, rule, time).
    const ids = full ? null : new Set([...raise.map((r) => r.deviceId), ...clear.map((c) => c.deviceId)])
    const saved = ids ? [...ids].flatMap((id) => (pending.has(id) ? [[id, JSON.stringify(pending.get(id))] as const] : [])) : serialise()
    let changed: AlertChange[]
    try {
      changed = await deps.store.commitBatch({
        reader: READER,
        checkpoint: ids ? null : end,
        states: saved,
        raise,
        clear,
        fence: deps.fence,
      })
    } catch (e) {
      // This batch is tried again: its changes must not count as seen.
      for (const [id, s] of before) {
        if (s) pending.set(id, s)
        else pending.delete(id)
      }
      throw e
    }
    // Only now is the outcome durable: update memory, then tell the dashboards.
    for (const [id] of saved) {
      states.set(id, pending.get(id)!)
      pending.delete(id)
    }
    if (!ids) {
      committedAt = end
      lastCommit = now()
    }
    const touched = new Set<string>()
    for (const c of clear) {
      if (c.ruleId !== OFFLINE_RULE.id) continue
      offline.delete(c.deviceId)
      const inc = grouped.get(c.deviceId)
      if (inc) touched.add(inc)
      grouped.delete(c.deviceId)
    }
    for (const c of changed) {
      if (c.action === 'raised') {
        const d = { id: c.alert.deviceId, type: c.alert.deviceType, site: c.alert.site }
        watchEscalation(
          c.alert,
          deps.rulesOf(d).find((x) => x.id === c.alert.ruleId),
        )
      }
      emit(c.action === 'raised' ? 'alert:raised' : 'alert:cleared', c.alert)
    }
    // Devices back from an incident: it is recounted, and cleared once all are back. Already durable, so a
    // failure here is logged rather than retried with the batch; the next return or start recounts it.
    for (const id of touched)
      await deps.incidents?.refresh(id, now()).then(announce, (e: Error) => deps.log.warn({ err: e.message }, 'incident recount failed'))
    return committedAt ?? { segment: 0, offset: 0 }
  }

  async function handleBatch(batch: Batch): Promise<Position> {
    const working: Working = new Map()
    const raise: RaiseInput[] = []
    const clear: ClearInput[] = []
    const heard = new Map<string, number>()
    const backOnline = new Set<string>()
    for (const r of batch.records) {
      if (r.kind !== 'reading') continue
      const offlineSince = offline.get(r.deviceId)
      if (offlineSince !== undefined && r.receivedAt > offlineSince && !backOnline.has(r.deviceId)) {
        backOnline.add(r.deviceId)
        clear.push({ deviceId: r.deviceId, ruleId: OFFLINE_RULE.id, at: r.receivedAt })
      }
      heard.set(r.deviceId, r.receivedAt)
      // Suspicious readings are stored and flagged but never raise or clear alerts.
      if (r.quality === 'good') evaluateRecord(r, working, raise, clear)
    }
    for (const [id, at] of heard) heardAt.set(id, Math.max(heardAt.get(id) ?? 0, at))
    return commit(working, raise, clear, batch.end)
  }

  const noteCollections = (marks: Iterable<readonly [string, number]>) =>
    exclusive(async () => {
      for (const [deviceId, at] of marks) {
        if (!owns(deviceId)) continue
        const saved = pending.get(deviceId) ?? states.get(deviceId)
        if (!saved || !isDevice(saved) || !saved.collection) continue
        if (saved.collection.lastAt !== null && saved.collection.lastAt >= at) continue
        const next = copyOf(saved) as DeviceRuleState
        next.collection = { ...saved.collection, lastAt: at }
        pending.set(deviceId, next)
      }
    })

  return {
    handler,
    /**
     * Raises `device-offline` for devices silent for too many intervals; run on a timer. `elsewhere`
     * (cluster mode): the devices of a site that other partitions' engines read, with when they were
     * last heard, so that a site's incident is judged on all its devices and not on this partition's.
     */
    checkSilence: (list: readonly Device[], t = now(), elsewhere?: (site: string) => readonly SilentDevice[]) =>
      exclusive(async () => {
        const sites = new Map<string, { device: Device; silent: SilentDevice }[]>()
        for (const d of list) {
          // Counted from our start or the device's provisioning, whichever is later.
          const since = Math.max(heardAt.get(d.id) ?? startedAt, startedAt, Date.parse(d.createdAt))
          const site = sites.get(d.site) ?? []
          site.push({ device: d, silent: { id: d.id, since, intervalS: d.intervalS } })
          sites.set(d.site, site)
        }
        for (const [site, members] of sites) {
          const fresh = members.filter((m) => !offline.has(m.device.id) && isSilent(m.silent.since, m.device.intervalS, t))
          if (fresh.length === 0) continue
          // An open incident takes in devices that went quiet with its own (within withinS); others stand alone.
          let incident = siteIncident.get(site)
          // Another partition's engine may have cleared it (its devices were the last back).
          if (incident && elsewhere && deps.incidents && !(await deps.incidents.isOpen(incident.id))) {
            siteIncident.delete(site)
            incident = undefined
          }
          let opened = false
          let groupIds: Set<string> | null = null
          if (!incident && deps.incidents) {
            const peers = members.map((m) => m.silent)
            if (elsewhere) peers.push(...elsewhere(site))
            // The largest group any newly silent device belongs to: the first in list order may be unrelated.
            let best: SilentDevice[] = []
            for (const f of fresh) {
              const together = silentTogether(policy, f.silent, peers, t)
              if (together.length > best.length) best = together
            }
            if (isIncident(policy, best.length, peers.length)) {
              const since = Math.max(...best.map((b) => b.since))
              const o = await deps.incidents.openOrJoin(site, t, best.length)
              incident = { id: o.incident.id, since }
              siteIncident.set(site, incident)
              groupIds = new Set(best.map((b) => b.id))
              // Joined: the engine that opened it announced it; this one's devices are an update.
              opened = o.created
            }
          }
          const w = policy.withinS * 1000
          const joins = (s: SilentDevice) =>
            incident !== undefined && (groupIds ? groupIds.has(s.id) : incident.since !== null && Math.abs(s.since - incident.since) <= w)
          for (const { device: d, silent } of fresh) {
            const under = joins(silent) ? incident!.id : undefined
            const alert = await deps.store.raise({
              deviceId: d.id,
              deviceType: d.type,
              site: d.site,
              rule: OFFLINE_RULE,
              value: Math.round((t - silent.since) / 1000),
              ts: t,
              incidentId: under,
            })
            // Marked offline only once stored: a failed raise is tried again on the next check.
            offline.set(d.id, t)
            if (under) grouped.set(d.id, under)
            emit('alert:raised', alert)
          }
          if (!incident || !deps.incidents) continue
          // Announced once its alerts are grouped under it, so the first event already carries the counts.
          const counted = await deps.incidents.refresh(incident.id, t)
          if (opened && counted) deps.bus.emit('incident:raised', counted)
          else announce(counted)
        }
      }),
    /**
     * The outlook of a device's forecast rule (a bin's fill rate and when it will be full), from the
     * engine's current state; null when the device has no such rule or no state yet. Off the hot path.
     */
    outlook: (d: EngineDevice, ruleId: string): ForecastOutlook | null =>
      outlookOf(
        deps.rulesOf(d).find((r) => r.id === ruleId),
        pending.get(d.id) ?? states.get(d.id),
      ),
    /**
     * A crew marked a bin collected: its missed-collection check counts it from the next reading on
     * (a reading that shows the drop would have told us too, but a bin emptied below the sensor's
     * notice, or a crew's word, must also end bin-not-collected). Kept with the next commit.
     */
    noteCollection: (deviceId: string, at: number) => noteCollections([[deviceId, at]]),
    /** The same for many bins at once (cluster mode: the latest marks, after a partition is taken or notices may be lost). */
    noteCollections,
    /**
     * Cluster mode: a reading of another partition that supplies its site's values (a weather
     * sensor's outside temperature), for this partition's devices at that site. Kept in memory (the
     * next reading of the sensor brings it again after a restart); the partition's own such readings
     * arrive through the handler and are saved with its state.
     */
    noteSite: (r: ReadingRecord) => {
      const fields = typeOf(r.type)?.toSite
      if (!fields || owns(r.deviceId)) return
      let site = elsewhereSite.get(r.site)
      for (const f of fields) {
        const v = r.readings[f]
        if (typeof v !== 'number') continue
        site ??= {}
        const had = site[f]
        if (!had || had[0] < r.ts) site[f] = [r.ts, v]
      }
      if (site) elsewhereSite.set(r.site, site)
    },
    /**
     * Clock ticks for devices that have gone quiet, so a window can slide and an alert clear without
     * a new reading. Device time moves on by the real time since we last heard from it, less one
     * interval: a reading that arrives now is still newer than the tick, so it is not taken as late.
     */
    tick: (list: readonly Device[], t = now()) =>
      exclusive(async () => {
        // Escalation: severity up after its delay while nobody has acknowledged the alert.
        for (const [id, e] of escalations) {
          if (e.due > t) continue
          const r = await deps.store.escalate(id, e.to, t)
          escalations.delete(id)
          if (r) deps.bus.emit('alert:changed', { action: 'escalated', alert: r.alert, entry: r.entry })
        }
        const end = lastEnd ?? committedAt
        if (!end) return
        const working: Working = new Map()
        const raise: RaiseInput[] = []
        const clear: ClearInput[] = []
        for (const dev of list) {
          const rx = heardAt.get(dev.id)
          if (rx === undefined || t - rx < 2 * dev.intervalS * 1000) continue
          const d: EngineDevice = { id: dev.id, type: dev.type, site: dev.site }
          const rules = deps.rulesOf(d)
          if (rules.length === 0 || !(pending.has(d.id) || states.has(d.id))) continue
          const s = deviceState(d, rules, working)
          if (s.lastTs === null) continue
          const out = tickRules(rules, s, s.lastTs + (t - rx) - dev.intervalS * 1000, { intervalS: dev.intervalS })
          if (out.length > 0) collect(d, out, raise, clear)
          // Nothing moved (no open alert, no transition): nothing to save for it.
          else if (!Object.values(s.rules).some(isActive)) working.delete(d.id)
        }
        if (working.size > 0) await commit(working, raise, clear, end)
      }),
  }
}
export type AlertEngine = ReturnType<typeof createAlertEngine>
