import type { RuleSpec } from '../rules/rule.ts'

/**
 * Damp and mould risk from room humidity (domain.md §5.3): Approved Document F's criterion (RH
 * over 70 % for more than 2 h in any 12 h, or over 90 % for more than 1 h in any 12 h), and
 * sustained RH over 80 %, at which mould can grow (English Housing Survey). A shower spike that
 * decays within the hour (§5.3) stays under all three. Wording describes the home, never the people in it.
 */
export const dampRisk = (field: string): RuleSpec => ({
  kind: 'any',
  id: 'damp-mould-risk',
  title: 'Damp and mould risk',
  text: 'The air in this home has stayed very humid for hours, which can lead to condensation and mould. Check ventilation, heating and any leaks; this may need an Awaab’s Law case.',
  severity: 'warning',
  field,
  // ours: a home whose rooms are humid every night keeps one alert until a whole two days are dry.
  clearForS: 48 * 3600,
  of: [
    {
      kind: 'window',
      id: 'over-70-for-2h-in-12h',
      title: 'Over 70 % for more than 2 h in 12 h',
      text: 'Relative humidity over 70 % for more than 2 hours in 12.',
      severity: 'warning',
      field,
      direction: 'above',
      level: 70,
      moreThanS: 2 * 3600,
      windowS: 12 * 3600,
    },
    {
      kind: 'window',
      id: 'over-90-for-1h-in-12h',
      title: 'Over 90 % for more than 1 h in 12 h',
      text: 'Relative humidity over 90 % for more than an hour in 12.',
      severity: 'warning',
      field,
      direction: 'above',
      level: 90,
      moreThanS: 3600,
      windowS: 12 * 3600,
    },
    {
      kind: 'threshold',
      id: 'over-80-sustained',
      title: 'Over 80 % for 4 hours',
      text: 'Relative humidity has stayed over 80 %, where mould can grow.',
      severity: 'warning',
      field,
      direction: 'above',
      raiseAt: 80,
      clearAt: 75, // ours
      forS: 4 * 3600, // ours: "sustained"
      maxGapS: 3 * 3600, // ours
    },
  ],
})
