import { z } from 'zod'

/**
 * Awaab's Law case records: The Hazards in Social Housing (Prescribed Requirements) (England)
 * Regulations 2025, SI 2025/1042, in force 27 October 2025 (standards.md §8). The schema is the
 * contract the API will store and serve; nothing here reads a clock or touches storage.
 */

/** 27 Oct 2025 00:00 in London (GMT: BST ended the day before). Duties do not reach back past it. */
export const AWAAB_IN_FORCE_MS = Date.UTC(2025, 9, 27)

const EpochMs = z.number().int().nonnegative()

/**
 * Triage decides which clock runs. Emergency: a prescribed HHSRS hazard posing an imminent and
 * significant risk of harm. Significant: a significant risk a reasonable landlord would make safe
 * urgently but not within 24 hours — in phase 1 only damp and mould (guidance, 17 Oct 2025).
 */
export const HazardCategory = z.enum(['emergency', 'significant'])
export type HazardCategory = z.infer<typeof HazardCategory>

/**
 * When each statutory step was done. These are the facts the deadlines are judged against, kept
 * apart from `state` so a late step still records the real time it happened.
 */
export const CaseSteps = z.strictObject({
  investigated: EpochMs.optional(),
  summarySent: EpochMs.optional(),
  madeSafe: EpochMs.optional(),
  preventativeBegun: EpochMs.optional(),
  preventativeOnSite: EpochMs.optional(),
})
export type CaseSteps = z.infer<typeof CaseSteps>
export type CaseStep = keyof CaseSteps

export const CaseState = z.enum([
  'open', // triaged; investigation due
  'investigated', // hazard confirmed; summary, safety and preventative work due
  'no-hazard', // investigation found no hazard in scope; the written summary is still owed
  'alternative-accommodation', // not made safe in time, household offered a move at the landlord's cost
  'made-safe',
  'preventative-works',
  'closed',
  'cancelled', // opened in error (duplicate, wrong property); not an outcome for a real hazard
])
export type CaseState = z.infer<typeof CaseState>
/** Closed and cancelled cases are final; the others count as open (migration 0004's partial index says the same). */
export const FINAL_CASE_STATES: readonly CaseState[] = ['closed', 'cancelled']

/**
 * Allowed moves. Emergency visits often investigate and make safe at once, hence open → made-safe.
 * Closed and cancelled are final: a hazard that returns is a new report and a new clock.
 */
export const CASE_TRANSITIONS: Readonly<Record<CaseState, readonly CaseState[]>> = {
  open: ['investigated', 'no-hazard', 'made-safe', 'alternative-accommodation', 'cancelled'],
  investigated: ['made-safe', 'alternative-accommodation'],
  'no-hazard': ['closed'],
  'alternative-accommodation': ['made-safe'],
  'made-safe': ['preventative-works', 'closed'],
  'preventative-works': ['closed'],
  closed: [],
  cancelled: [],
}

export const CaseTransition = z
  .strictObject({ from: CaseState, to: CaseState })
  .refine((t) => CASE_TRANSITIONS[t.from].includes(t.to), { message: 'transition not allowed', path: ['to'] })

export const AwaabCase = z
  .strictObject({
    id: z.string().min(1).max(100),
    category: HazardCategory,
    // A hazard name as people say it (damp-mould, excess-cold …): later phases add hazards, so not an enum.
    hazard: z.string().min(1).max(80),
    triagedAt: EpochMs,
    state: CaseState,
    steps: CaseSteps.default({}),
    // Some hazards need no further work once safe; the preventative clocks then do not run.
    preventativeRequired: z.boolean().default(true),
    // Set by the investigation: false means no hazard in scope, so only the written summary is owed.
    hazardFound: z.boolean().optional(),
    sourceAlertId: z.string().min(1).optional(),
  })
  .superRefine((c, ctx) => {
    if (c.triagedAt < AWAAB_IN_FORCE_MS) {
      ctx.addIssue({ code: 'custom', path: ['triagedAt'], message: "Awaab's Law applies from 27 October 2025" })
    }
    for (const [step, at] of Object.entries(c.steps)) {
      if (at !== undefined && at < c.triagedAt) {
        ctx.addIssue({ code: 'custom', path: ['steps', step], message: 'a step cannot be done before the case was triaged' })
      }
    }
  })
export type AwaabCase = z.infer<typeof AwaabCase>
export type AwaabCaseInput = z.input<typeof AwaabCase>

export type TransitionResult = { ok: true; case: AwaabCase } | { ok: false; reason: string }

/** Which step a state change proves done; the first record of a step wins so history is not rewritten. */
const STEP_OF: Partial<Record<CaseState, CaseStep>> = {
  investigated: 'investigated',
  'no-hazard': 'investigated',
  'made-safe': 'madeSafe',
  'preventative-works': 'preventativeBegun',
}

export function transition(c: AwaabCase, to: CaseState, at: number): TransitionResult {
  if (!CASE_TRANSITIONS[c.state].includes(to)) return { ok: false, reason: `cannot go from ${c.state} to ${to}` }
  if (!Number.isInteger(at) || at < c.triagedAt) return { ok: false, reason: 'time is before the case was triaged' }
  const steps: CaseSteps = { ...c.steps }
  const step = STEP_OF[to]
  if (step) steps[step] ??= at
  // Making safe on the first visit concludes the investigation at the same moment.
  if (to === 'made-safe') steps.investigated ??= at
  const next: AwaabCase = { ...c, state: to, steps }
  if (to === 'investigated' || to === 'made-safe') next.hazardFound = true
  if (to === 'no-hazard') next.hazardFound = false
  return { ok: true, case: next }
}

/** Steps that are not states of their own; the others are recorded by `transition` so state and facts agree. */
export type RecordableStep = 'summarySent' | 'preventativeOnSite'

export function recordStep(c: AwaabCase, step: RecordableStep, at: number): TransitionResult {
  if (c.state === 'cancelled') return { ok: false, reason: 'case is cancelled' }
  if (!Number.isInteger(at) || at < c.triagedAt) return { ok: false, reason: 'time is before the case was triaged' }
  if (c.steps[step] !== undefined) return { ok: false, reason: `${step} already recorded` }
  return { ok: true, case: { ...c, steps: { ...c.steps, [step]: at } } }
}

export const CaseStepName = CaseSteps.keyof()

/** The state a step moves the case into, for steps that are states of their own; null for the others. */
const STATE_OF_STEP: Readonly<Record<CaseStep, CaseState | null>> = {
  investigated: 'investigated',
  madeSafe: 'made-safe',
  preventativeBegun: 'preventative-works',
  summarySent: null,
  preventativeOnSite: null,
}

/**
 * Records any statutory step the way people report it ("we investigated", "the summary went
 * out"): a step that is a state moves the case there, the others are recorded as facts. An
 * investigation recorded this way found a hazard; one that found none is the `no-hazard` state.
 */
export function applyStep(c: AwaabCase, step: CaseStep, at: number): TransitionResult {
  if (c.steps[step] !== undefined) return { ok: false, reason: `${step} already recorded` }
  const to = STATE_OF_STEP[step]
  if (to !== null) {
    const r = transition(c, to, at)
    return r.ok ? r : { ok: false, reason: `${step} cannot be recorded: ${r.reason}` }
  }
  // Both report on or act on the investigation's findings, so neither can come before it.
  const investigated = c.steps.investigated
  if (investigated === undefined) return { ok: false, reason: `${step} cannot be recorded before the investigation` }
  if (at < investigated) return { ok: false, reason: `${step} cannot be earlier than the investigation` }
  return recordStep(c, step as RecordableStep, at)
}
