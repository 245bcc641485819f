import http from 'node:http'

/** A service request as the in-test server keeps it: the form it was made from, and its state. */
export interface StoredRequest {
  id: string
  form: Record<string, string>
  status: 'open' | 'closed'
  statusNotes: string | null
  agency: string | null
  requestedAt: string
  updatedAt: string
}

export interface GeoReportServerOptions {
  apiKey: string
  /** Service codes it offers; a request for another is refused (404, as the spec says for an unknown code). */
  services: string[]
  jurisdictionId?: string
  /** Answer POSTs with a token, giving the id only from GET tokens/{token}.json after `tokenDelayMs`. */
  tokens?: boolean
  tokenDelayMs?: number
}

/**
 * An Open311 GeoReport v2 server, JSON format, as the published spec describes it (standards.md §1):
 * POST requests.json takes a form (api_key in the body) and answers an array with service_request_id
 * or token; GET requests/{id}.json and tokens/{token}.json answer arrays; errors are
 * `[{code, description}]` with 403 for a bad key, 404 for an unknown service or id, 400 otherwise.
 * A test can make it fail the next POSTs with any status, refuse a device, and change a request's status.
 */
export function geoReportServer(port: number, o: GeoReportServerOptions) {
  const requests = new Map<string, StoredRequest>()
  const tokens = new Map<string, { id: string; readyAt: number }>()
  const posts: Record<string, string>[] = []
  const gets: string[] = []
  const failNext: number[] = []
  const refuseDevice = new Map<string, string>()
  let nextId = 1000

  const send = (res: http.ServerResponse, status: number, body: unknown) => {
    // A throttled client is told when to come back.
    res.writeHead(status, { 'content-type': 'application/json; charset=utf-8', ...(status === 429 ? { 'retry-after': '2' } : {}) })
    res.end(JSON.stringify(body))
  }
  const error = (res: http.ServerResponse, status: number, description: string) => send(res, status, [{ code: status, description }])
  const view = (r: StoredRequest) => ({
    service_request_id: r.id,
    status: r.status,
    status_notes: r.statusNotes,
    service_code: r.form.service_code,
    description: r.form.description,
    agency_responsible: r.agency,
    requested_datetime: r.requestedAt,
    updated_datetime: r.updatedAt,
    address: r.form.address_string ?? null,
    lat: r.form.lat ? Number(r.form.lat) : null,
    long: r.form.long ? Number(r.form.long) : null,
  })

  const server = http.createServer((req, res) => {
    const chunks: Buffer[] = []
    req.on('data', (c: Buffer) => chunks.push(c))
    req.on('end', () => {
      const url = new URL(req.url ?? '/', `http://127.0.0.1:${port}`)
      const path = url.pathname.replace(/^\/open311\/v2\//, '/')
      if (req.method === 'POST' && path === '/requests.json') {
        const form = Object.fromEntries(new URLSearchParams(Buffer.concat(chunks).toString('utf8')))
        posts.push(form)
        const fail = failNext.shift()
        if (fail !== undefined) return error(res, fail, `failing as the test asked (${fail})`)
        if (!(req.headers['content-type'] ?? '').startsWith('application/x-www-form-urlencoded'))
          return error(res, 400, 'the body must be application/x-www-form-urlencoded')
        if (form.api_key !== o.apiKey) return error(res, 403, 'Invalid api_key')
        if (o.jurisdictionId && form.jurisdiction_id !== o.jurisdictionId) return error(res, 404, 'jurisdiction_id not found')
        if (!form.service_code || !o.services.includes(form.service_code))
          return error(res, 404, `service_code ${form.service_code ?? '(none)'} not found`)
        if (!(form.lat && form.long) && !form.address_string && !form.address_id)
          return error(res, 400, 'a location is required: lat and long, address_string or address_id')
        const refused = refuseDevice.get(form['attribute[device_id]'] ?? '')
        if (refused) return error(res, 400, refused)
        const now = new Date().toISOString().replace(/\.\d+Z$/, 'Z')
        const r: StoredRequest = {
          id: String(nextId++),
          form,
          status: 'open',
          statusNotes: null,
          agency: null,
          requestedAt: now,
          updatedAt: now,
        }
        requests.set(r.id, r)
        if (o.tokens) {
          const token = `tok-${r.id}`
          tokens.set(token, { id: r.id, readyAt: Date.now() + (o.tokenDelayMs ?? 0) })
          return send(res, 201, [{ token }])
        }
        return send(res, 201, [{ service_request_id: r.id, service_notice: 'Thank you: the contractor has it' }])
      }
      if (req.method === 'GET') {
        gets.push(path)
        const m = /^\/requests\/([^/]+)\.json$/.exec(path)
        if (m) {
          const r = requests.get(decodeURIComponent(m[1]!))
          return r ? send(res, 200, [view(r)]) : error(res, 404, `service_request_id ${m[1]} not found`)
        }
        const t = /^\/tokens\/([^/]+)\.json$/.exec(path)
        if (t) {
          const token = decodeURIComponent(t[1]!)
          const known = tokens.get(token)
          if (!known) return error(res, 404, `token ${token} not found`)
          return send(res, 200, [{ service_request_id: Date.now() >= known.readyAt ? known.id : null, token }])
        }
      }
      error(res, 404, 'Resource not found')
    })
  })
  const listening = new Promise<void>((r) => server.listen(port, '127.0.0.1', () => r()))
  return {
    listening,
    url: `http://127.0.0.1:${port}/open311/v2`,
    requests,
    /** Every POST's form, refused ones included, in order. */
    posts,
    /** Every GET path. */
    gets,
    /** The next POSTs answer these statuses, one each. */
    failNext: (...statuses: number[]) => failNext.push(...statuses),
    /** Requests for this device are refused with 400 and this description. */
    refuse: (deviceId: string, description: string) => refuseDevice.set(deviceId, description),
    /** Requests for this device are taken again. */
    accept: (deviceId: string) => refuseDevice.delete(deviceId),
    /** The contractor changes a request's status. */
    setStatus(id: string, status: 'open' | 'closed', notes: string | null, agency: string | null = null) {
      const r = requests.get(id)
      if (!r) throw new Error(`no request ${id}`)
      Object.assign(r, { status, statusNotes: notes, agency, updatedAt: new Date().toISOString().replace(/\.\d+Z$/, 'Z') })
    },
    close: () => new Promise<void>((r) => server.close(() => r())),
  }
}
export type GeoReportServer = ReturnType<typeof geoReportServer>
