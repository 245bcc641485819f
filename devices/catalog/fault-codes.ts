import { z } from 'zod'

/**
 * Boiler fault codes in plain English, for housing officers and residents (issue 9, domain.md §5.2).
 * Meanings were checked with the stored-pages search (2026-11) against manufacturer manual extracts
 * where they exist and otherwise against at least two independent repair guides; `verified: false`
 * marks the ones we could not confirm, and each entry's comment names its sources.
 * Advice is written about the boiler, never about the household: faults are equipment faults.
 */

export const BoilerMaker = z.enum(['worcester-bosch', 'vaillant', 'baxi', 'potterton', 'ideal'])
export type BoilerMaker = z.infer<typeof BoilerMaker>

const CodeKey = z.string().regex(/^[A-Z0-9]{1,8}$/, 'normalised code: upper case letters and digits only')

export const FaultCodeEntry = z.strictObject({
  /** Normalised key (see normaliseFaultCode); `display` is how the boiler shows it. */
  code: CodeKey,
  display: z.string().min(1),
  aliases: z.array(CodeKey).default([]),
  makers: z.array(BoilerMaker).min(1),
  /** lockout: the boiler has stopped until reset or repaired. warning: it still runs. */
  kind: z.enum(['lockout', 'warning']),
  /** resident: safe for the household to clear (reset once, top up pressure); engineer: needs a visit. */
  clearedBy: z.enum(['resident', 'engineer']),
  topic: z.enum(['ignition', 'pressure', 'overheat', 'circulation', 'condensate', 'service']),
  meaning: z.string().min(20),
  advice: z.string().min(40),
  verified: z.boolean(),
})
export type FaultCodeEntry = z.infer<typeof FaultCodeEntry>

const GAS = 'If anyone smells gas, leave the home and call the National Gas Emergency line on 0800 111 999.'
const RESET_ONCE = 'Pressing reset once is safe; if the code comes back, book a Gas Safe registered engineer.'
const TOP_UP =
  'Topping the pressure up to 1–1.5 bar on the gauge and pressing reset clears it, if the resident has been shown how and wants to; ' +
  'otherwise book a visit. Pressure that keeps falling means a leak or a worn part in the system: log a repair.'
const SERVICE =
  'Not a breakdown: the boiler keeps working. The service interval set at the last visit has passed, so arrange the annual ' +
  'service and gas safety check; the engineer resets the reminder.'

export const FAULT_CODES: readonly FaultCodeEntry[] = [
  // boilerfaultcodes.com CDi Classic EA227 ("No ionisation detected after ignition"); smart-plan.com: 227 / "227 V" on Greenstar 8000/4000.
  entry('EA227', 'EA 227', ['worcester-bosch'], 'lockout', 'resident', 'ignition', {
    aliases: ['227'],
    meaning: 'The boiler tried to light but did not detect a flame, so it shut itself off for safety. Heating and hot water are off.',
    advice: `Not a gas emergency on its own. Check other gas appliances work and, in freezing weather, that the outside condensate pipe is not frozen. ${RESET_ONCE} ${GAS}`,
  }),
  // boilerfaultcodes.com GB162 EA229 ("ionisation current … during the burning phase was insufficient"); squote.app; homekog.co.uk.
  entry('EA229', 'EA 229', ['worcester-bosch'], 'lockout', 'resident', 'ignition', {
    meaning: 'The boiler lit, but the flame went out while it was running and it could not keep it lit.',
    advice: `A frozen or blocked condensate pipe is a common cause in cold weather. ${RESET_ONCE} ${GAS}`,
  }),
  // UNVERIFIED: only source is a field-notes page (hgs-internal-tools, domain.md §5.2). Elsewhere "9.F" is a pump over-run
  // message (CDi Compact) and "9F 856" an oil-burner reset limit (boilerfaultcodes.com); no manual extract for 855 was found.
  entry('9F855', '9F 855', ['worcester-bosch'], 'lockout', 'engineer', 'condensate', {
    meaning:
      'Reported by engineers as a blocked condensate trap or a frozen outside condensate pipe (not confirmed in a Worcester manual).',
    advice:
      'Treat as a fault until an engineer confirms the cause. In freezing weather, pouring warm (not boiling) water over the outside ' +
      'condensate pipe is a safe first step; otherwise book a Gas Safe registered engineer.',
    verified: false,
  }),
  // boilerfaultcodes.com CDi Classic E9 ("Safety temperature limiter in CH flow has tripped"); heliosgas.com Greenstar CDi table (219/220/221/224).
  entry('E9', 'E9', ['worcester-bosch'], 'lockout', 'engineer', 'overheat', {
    aliases: ['E9219', 'E9220', 'E9221', 'E9224'],
    meaning:
      'An overheat safety cut-out has tripped: water in the boiler got too hot, usually because it was not circulating, and the boiler shut down.',
    advice:
      'The cut-out has done its job. Book a Gas Safe registered engineer to find the cause (pump, sludge or low pressure). One reset may ' +
      'bring heat back for now; do not keep resetting if it returns.',
  }),
  // boyla.co.uk, smart-plan.com, boilercoveruk.co.uk: A1 / 281 = pump stuck, running dry or air in the system.
  entry('A1', 'A1', ['worcester-bosch'], 'lockout', 'engineer', 'circulation', {
    aliases: ['A1281'],
    meaning:
      'Water is not moving through the boiler properly (the pump is stuck, running dry or has air in it), so it stopped to protect itself.',
    advice:
      'If the gauge reads below 1 bar, topping up to 1–1.5 bar may clear it. If the pressure is fine or the code returns, book a Gas Safe ' +
      'registered engineer: the pump may need freeing or replacing.',
  }),
  // Vaillant ecoTEC installation manuals (F.22 "Safety shutdown: low water pressure"); boilerfaultcodes.com ecoTEC pro: below 0.5 bar.
  entry('F22', 'F.22', ['vaillant'], 'lockout', 'resident', 'pressure', {
    meaning: 'Water pressure in the heating system is too low (below about 0.5 bar), so the boiler has switched off.',
    advice: TOP_UP,
  }),
  // Vaillant ecoTEC installation manuals (F.28 "Failure during start-up: ignition unsuccessful").
  entry('F28', 'F.28', ['vaillant'], 'lockout', 'resident', 'ignition', {
    meaning: 'The boiler could not light when starting up, after several attempts, and has locked out.',
    advice: `Check other gas appliances work, a prepayment meter has credit, and in freezing weather the condensate pipe is not frozen. ${RESET_ONCE} ${GAS}`,
  }),
  // boilerfaultcodes.com ecoTEC exclusive F.29 ("Flame goes off during operation and subsequent ignition attempts failed"); boyla.co.uk.
  entry('F29', 'F.29', ['vaillant'], 'lockout', 'resident', 'ignition', {
    meaning: 'The flame went out while the boiler was running and it could not relight.',
    advice: `Often a brief gas supply interruption or a frozen condensate pipe. ${RESET_ONCE} ${GAS}`,
  }),
  // Secondary only: Russian and Turkish copies of Vaillant's table ("no pressure change detected when the pump starts");
  // the English manual row was not in the stored pages. Consistent with domain.md §5.2 ("pressure sensor/pump").
  entry('F75', 'F.75', ['vaillant'], 'lockout', 'engineer', 'circulation', {
    meaning:
      'The boiler did not see the pressure change it expects when the pump starts: the pump or pressure sensor may be faulty, or there is air in the system.',
    advice:
      'Book a Gas Safe registered engineer: the pump or the pressure sensor usually needs checking or replacing. Resetting will not fix the cause.',
  }),
  // boilerfaultcodes.com Potterton Promax System HE Plus E119 ("Water pressure switch not operated … less than 0.5 bar").
  // Baxi shares the control platform; Baxi's own manual row was not found (domain.md §5.2 lists both).
  entry('E119', 'E119', ['baxi', 'potterton'], 'lockout', 'resident', 'pressure', {
    meaning: 'Water pressure in the heating system is below 0.5 bar, so the boiler has switched off.',
    advice: TOP_UP,
  }),
  // homekog.co.uk and boilercoveruk: Ideal Logic / Logic+ / Vogue L2 = ignition lockout (no flame after ignition attempts).
  entry('L2', 'L2', ['ideal'], 'lockout', 'resident', 'ignition', {
    meaning: 'Ignition lockout: the boiler tried to light but did not detect a flame and has stopped.',
    advice: `Check other gas appliances work and, in freezing weather, that the condensate pipe is not frozen. ${RESET_ONCE} ${GAS}`,
  }),
  // heliosgas.com Greenstar 30i ErP table: H03 burner-hours service interval expired; H08 set service date expired.
  entry('H03', 'H03', ['worcester-bosch'], 'warning', 'engineer', 'service', {
    meaning: 'Service reminder: the number of running hours set for the service interval has passed.',
    advice: SERVICE,
  }),
  entry('H08', 'H08', ['worcester-bosch'], 'warning', 'engineer', 'service', {
    meaning: 'Service reminder: the service date set at the last visit has passed.',
    advice: SERVICE,
  }),
  // boilerfaultcodes.com Greenstar CDi Compact SE ("Service interval expired") and Ideal Logic Max SE (service timer).
  entry('SE', 'SE', ['worcester-bosch', 'ideal'], 'warning', 'engineer', 'service', {
    meaning: 'Service reminder: the service timer set at the last visit has run out.',
    advice: SERVICE,
  }),
]

function entry(
  code: string,
  display: string,
  makers: BoilerMaker[],
  kind: FaultCodeEntry['kind'],
  clearedBy: FaultCodeEntry['clearedBy'],
  topic: FaultCodeEntry['topic'],
  text: { meaning: string; advice: string; aliases?: string[]; verified?: boolean },
): FaultCodeEntry {
  const { aliases = [], verified = true, ...words } = text
  return { code, display, aliases, makers, kind, clearedBy, topic, verified, ...words }
}

/** Boilers and people write the same code as "F.22", "f22", "9F/855" or "EA 227". */
export function normaliseFaultCode(code: string): string {
  return code.toUpperCase().replace(/[\s./\-_]/g, '')
}

const MAKER_NAMES: Record<string, BoilerMaker> = {
  worcester: 'worcester-bosch',
  worcesterbosch: 'worcester-bosch',
  bosch: 'worcester-bosch',
  vaillant: 'vaillant',
  baxi: 'baxi',
  potterton: 'potterton',
  ideal: 'ideal',
  idealheating: 'ideal',
  idealboilers: 'ideal',
}

export function normaliseMaker(name: string): BoilerMaker | undefined {
  return MAKER_NAMES[name.toLowerCase().replace(/[^a-z]/g, '')]
}

/** What people are told about a code: the API's answer, and what the dashboards show. */
export const FaultExplanation = z.discriminatedUnion('status', [
  z.object({ status: z.literal('known'), entry: FaultCodeEntry }),
  /** Several makers use this code for different things: ask which boiler it is. */
  z.object({ status: z.literal('ambiguous'), code: z.string(), entries: z.array(FaultCodeEntry) }),
  /** Shown to people as-is: an unknown code is still a fault report, never dropped. */
  z.object({ status: z.literal('unknown'), code: z.string(), maker: z.string().optional(), meaning: z.string(), advice: z.string() }),
])
export type FaultExplanation = z.infer<typeof FaultExplanation>

const UNKNOWN_MEANING = 'This code is not in our table yet, so we cannot say what it means.'
const UNKNOWN_ADVICE =
  "The code is shown exactly as the boiler reported it. Check the boiler's manual or ask a Gas Safe registered engineer; " +
  'if the heating or hot water is off, book a repair.'

/** `table` is for a council's own additions (and tests); the shipped table is the default. */
export function explainFaultCode(code: string, maker?: string, table: readonly FaultCodeEntry[] = FAULT_CODES): FaultExplanation {
  const key = normaliseFaultCode(code)
  const unknown: FaultExplanation = { status: 'unknown', code, maker, meaning: UNKNOWN_MEANING, advice: UNKNOWN_ADVICE }
  const makerKey = maker === undefined ? undefined : normaliseMaker(maker)
  // A maker we do not know could use any code for anything: guessing from another brand would mislead.
  if (key === '' || (maker !== undefined && makerKey === undefined)) return unknown
  const matches = table.filter(
    (e) => (e.code === key || e.aliases.includes(key)) && (makerKey === undefined || e.makers.includes(makerKey)),
  )
  const [first] = matches
  if (first === undefined) return unknown
  return matches.length === 1 ? { status: 'known', entry: first } : { status: 'ambiguous', code, entries: matches }
}
