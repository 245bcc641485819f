import { z } from 'zod'

/**
 * Open311 GeoReport v2 out (issue 14, standards.md §1): a contractor's or the council's "report it"
 * system receives a service request for an alert of a configured rule, and its status is polled.
 * GeoReport's JSON is a mechanical mapping of its XML: lists are arrays, even a single request,
 * and ids (`service_request_id`, `token`, `service_code`) are strings that some servers send as numbers.
 */

const IdText = z.union([z.string().min(1).max(200), z.number().int().nonnegative()]).transform(String)
const Text = z.string().max(4000).nullish()

/** One element of the POST /requests answer: an id, or a token to ask for the id later. */
export const GeoReportCreated = z
  .object({ service_request_id: IdText.nullish(), token: IdText.nullish(), service_notice: Text })
  .refine((r) => r.service_request_id || r.token, 'neither service_request_id nor token')
export const GeoReportCreatedList = z.array(GeoReportCreated).min(1).max(10)

/** One element of GET /tokens/{token}: the id once the server has made it. */
export const GeoReportToken = z.object({ service_request_id: IdText.nullish(), token: IdText.nullish() })
export const GeoReportTokenList = z.array(GeoReportToken).max(10)

/** One element of GET /requests/{id}: only what the alert shows is read; everything else is ignored. */
export const GeoReportRequest = z.object({
  service_request_id: IdText,
  status: z
    .string()
    .max(40)
    .transform((s) => s.toLowerCase()),
  status_notes: Text,
  agency_responsible: Text,
  updated_datetime: z.string().max(40).nullish(),
})
export const GeoReportRequestList = z.array(GeoReportRequest).min(1).max(10)

/** The error list a GeoReport server answers with (`[{"code":403,"description":"Invalid api_key"}]`). */
export const GeoReportErrors = z.array(z.object({ code: z.union([z.number(), z.string()]).nullish(), description: Text })).min(1)

/** Where a contractor request stands, as this service knows it. */
export const ContractorStatus = z.enum(['awaiting-id', 'open', 'closed'])
export type ContractorStatus = z.infer<typeof ContractorStatus>

/** A service request made for an alert, as the API serves it beside the alert. */
export const ContractorRequest = z.object({
  alertId: z.string(),
  system: z.literal('open311'),
  serviceCode: z.string(),
  serviceRequestId: z.string().nullable().describe('null until a server that answered with a token gives the id'),
  status: ContractorStatus,
  statusNotes: z.string().nullable(),
  agencyResponsible: z.string().nullable(),
  updatedAt: z.string().nullable().describe("the server's updated_datetime"),
  submittedAt: z.string(),
  checkedAt: z.string().nullable().describe('when the status was last asked for'),
  summary: z.string().describe('plain English, e.g. "With the contractor: request 123, status open"'),
})
export type ContractorRequest = z.infer<typeof ContractorRequest>

/** The plain-English line shown on an alert. */
export function contractorSummary(r: Pick<ContractorRequest, 'serviceRequestId' | 'status' | 'statusNotes' | 'agencyResponsible'>): string {
  if (r.serviceRequestId === null) return 'Sent to the contractor; waiting for their request number'
  const who = r.agencyResponsible ? `With ${r.agencyResponsible}` : 'With the contractor'
  const notes = r.statusNotes ? ` (${r.statusNotes})` : ''
  return `${who}: request ${r.serviceRequestId}, status ${r.status}${notes}`
}

/**
 * Rule → service code, from OPEN311_SERVICE_CODES (`bin-not-collected=WM-MISSED,bin-fire=FIRE`).
 * A string the service cannot read is reported, not half-used.
 */
export function parseServiceCodes(text: string): Record<string, string> | string {
  const out: Record<string, string> = {}
  for (const part of text
    .split(',')
    .map((p) => p.trim())
    .filter(Boolean)) {
    const m = /^([a-z0-9-]{1,64})=([A-Za-z0-9_.:-]{1,64})$/.exec(part)
    if (!m) return `"${part}" is not rule=SERVICE_CODE (e.g. bin-not-collected=WM-MISSED)`
    out[m[1]!] = m[2]!
  }
  return out
}

/** Six decimal places with trailing zeros dropped (about 10 cm), as FixMyStreet sends coordinates. */
export const coordinate = (n: number) => String(Number(n.toFixed(6)))
