import { z } from 'zod'

export const Severity = z.enum(['info', 'warning', 'critical'])
export type Severity = z.infer<typeof Severity>

/**
 * A threshold rule on one numeric field of a reading (booleans count as 0/1).
 * `raiseAt`/`clearAt` form a hysteresis band so a value that hovers at the
 * threshold does not flap; `consecutive` readings must breach before raising.
 */
export const AlertRule = z
  .object({
    id: z.string().regex(/^[a-z0-9][a-z0-9-]{0,63}$/),
    title: z.string().min(1),
    field: z.string().min(1),
    direction: z.enum(['above', 'below']),
    raiseAt: z.number(),
    clearAt: z.number(),
    consecutive: z.number().int().min(1).max(100).default(1),
    clearConsecutive: z.number().int().min(1).max(100).default(1),
    severity: Severity,
  })
  .refine((r) => (r.direction === 'above' ? r.clearAt <= r.raiseAt : r.clearAt >= r.raiseAt), {
    message: 'clearAt must lie on the safe side of raiseAt (hysteresis band)',
    path: ['clearAt'],
  })
export type AlertRule = z.infer<typeof AlertRule>
export type AlertRuleInput = z.input<typeof AlertRule>
