import http from 'node:http'
import type { IncomingHttpHeaders } from 'node:http'
import type { AddressInfo } from 'node:net'

/**
 * Local stand-ins for the three tools' "start work" APIs, on 127.0.0.1. Each one checks a request
 * the way its tool's documentation describes it and answers like the tool: the documented success
 * status when everything is right, 401 for wrong credentials, 404 for a wrong path, 4xx for a bad
 * body. Tests look at `requests` for the exact bytes and at `accepted` for what a real tool would
 * have run.
 *
 * Sources: GitHub REST "Create a repository dispatch event" (API version 2022-11-28); GitLab
 * "Trigger a pipeline with a token" (api/v4 pipeline triggers); Jenkins "Remote access API"
 * (buildWithParameters with a user's API token).
 */

export type Tool = 'github' | 'gitlab' | 'jenkins'

export interface StandInRequest {
  method: string
  /** path and query exactly as received */
  url: string
  headers: IncomingHttpHeaders
  body: Buffer
  status: number
  /** why the stand-in refused it; undefined when it was accepted */
  refusal?: string
}

export interface Forced {
  status: number
  headers?: Record<string, string>
  body?: string
}

export interface StandInOptions {
  token: string
  /** jenkins: the user the API token belongs to */
  user?: string
  /** github: a GitHub Enterprise-style prefix such as `/api/v3` */
  prefix?: string
}

interface Verdict { status: number, refusal?: string, headers?: Record<string, string>, body?: string }

const GITHUB_PATH = /^\/repos\/[A-Za-z0-9-]+\/[A-Za-z0-9._-]+\/dispatches$/
const GITLAB_PATH = /^\/api\/v4\/projects\/(?:\d+|[^/]+)\/trigger\/pipeline$/
const JENKINS_PATH = /^(?:\/job\/[^/]+)+\/buildWithParameters$/

function refuse (status: number, refusal: string, body = JSON.stringify({ message: refusal })): Verdict {
  return { status, refusal, body, headers: { 'content-type': 'application/json' } }
}

export class ToolStandIn {
  readonly tool: Tool
  readonly requests: StandInRequest[] = []
  /** answers given before any checking, in order (to simulate outages) */
  script: Forced[] = []
  /** the credential the tool accepts now; tests rotate it */
  token: string
  user: string | undefined
  private readonly prefix: string
  private readonly server: http.Server

  private constructor (tool: Tool, options: StandInOptions, server: http.Server) {
    this.tool = tool
    this.token = options.token
    this.user = options.user
    this.prefix = options.prefix ?? ''
    this.server = server
  }

  static async start (tool: Tool, options: StandInOptions): Promise<ToolStandIn> {
    const server = http.createServer()
    const standIn = new ToolStandIn(tool, options, server)
    server.on('request', (req, res) => {
      const chunks: Buffer[] = []
      req.on('data', (chunk: Buffer) => chunks.push(chunk))
      req.on('end', () => {
        const body = Buffer.concat(chunks)
        const forced = standIn.script.shift()
        const verdict: Verdict = forced ?? standIn.check(req.method ?? '', req.url ?? '', req.headers, body)
        const record: StandInRequest = { method: req.method ?? '', url: req.url ?? '', headers: req.headers, body, status: verdict.status }
        if (forced !== undefined) record.refusal = 'forced'
        else if (verdict.refusal !== undefined) record.refusal = verdict.refusal
        standIn.requests.push(record)
        res.writeHead(verdict.status, verdict.headers ?? {})
        res.end(verdict.body ?? '')
      })
    })
    await new Promise<void>(resolve => server.listen(0, '127.0.0.1', resolve))
    return standIn
  }

  /** `http://127.0.0.1:PORT` (plus the prefix): what a sink's apiUrl / gitlabUrl / jenkinsUrl is set to. */
  get baseUrl (): string {
    const { port } = this.server.address() as AddressInfo
    return `http://127.0.0.1:${port}${this.prefix}`
  }

  /** Requests the tool would have run. */
  get accepted (): StandInRequest[] {
    return this.requests.filter(r => r.refusal === undefined)
  }

  async close (): Promise<void> {
    this.server.closeAllConnections()
    await new Promise<void>(resolve => this.server.close(() => { resolve() }))
  }

  private check (method: string, url: string, headers: IncomingHttpHeaders, body: Buffer): Verdict {
    if (method !== 'POST') return refuse(404, `method ${method}`)
    const parsed = new URL(url, 'http://stand-in')
    if (!parsed.pathname.startsWith(this.prefix)) return refuse(404, 'Not Found')
    const path = parsed.pathname.slice(this.prefix.length)
    switch (this.tool) {
      case 'github': return this.github(path, headers, body)
      case 'gitlab': return this.gitlab(path, headers, body)
      case 'jenkins': return this.jenkins(path, parsed, headers)
    }
  }

  private github (path: string, headers: IncomingHttpHeaders, body: Buffer): Verdict {
    if (!GITHUB_PATH.test(path)) return refuse(404, 'Not Found')
    if (headers.authorization !== `Bearer ${this.token}`) return refuse(401, 'Bad credentials')
    if (headers['user-agent'] === undefined || headers['user-agent'] === '') return refuse(403, 'a User-Agent is required')
    if (headers.accept !== 'application/vnd.github+json') return refuse(415, `accept ${String(headers.accept)}`)
    if (headers['x-github-api-version'] !== '2022-11-28') return refuse(400, `api version ${String(headers['x-github-api-version'])}`)
    if (headers['content-type']?.startsWith('application/json') !== true) return refuse(415, 'content-type')
    let parsed: unknown
    try {
      parsed = JSON.parse(body.toString('utf8'))
    } catch {
      return refuse(400, 'Problems parsing JSON')
    }
    const dispatch = parsed as { event_type?: unknown, client_payload?: unknown }
    if (typeof dispatch.event_type !== 'string' || dispatch.event_type.length === 0 || dispatch.event_type.length > 100) return refuse(422, 'event_type')
    if (typeof dispatch.client_payload !== 'object' || dispatch.client_payload === null || Array.isArray(dispatch.client_payload)) return refuse(422, 'client_payload')
    if (Object.keys(dispatch.client_payload).length > 10) return refuse(422, 'client_payload: no more than 10 properties are allowed')
    if (Object.keys(parsed as object).some(k => k !== 'event_type' && k !== 'client_payload')) return refuse(422, 'unknown field')
    return { status: 204 }
  }

  private gitlab (path: string, headers: IncomingHttpHeaders, body: Buffer): Verdict {
    if (!GITLAB_PATH.test(path)) return refuse(404, '404 Not Found')
    if (headers['content-type'] !== 'application/x-www-form-urlencoded') return refuse(400, 'content-type')
    const form = new URLSearchParams(body.toString('utf8'))
    if (form.get('token') !== this.token) return refuse(404, '404 Not Found')
    if ((form.get('ref') ?? '') === '') return refuse(400, 'ref is missing')
    for (const key of form.keys()) {
      if (key !== 'token' && key !== 'ref' && !/^variables\[[A-Za-z0-9_]+\]$/.test(key)) return refuse(400, `unexpected ${key}`)
    }
    return { status: 201, headers: { 'content-type': 'application/json' }, body: JSON.stringify({ id: this.requests.length + 1, status: 'created' }) }
  }

  private jenkins (path: string, url: URL, headers: IncomingHttpHeaders): Verdict {
    const expected = `Basic ${Buffer.from(`${this.user ?? ''}:${this.token}`).toString('base64')}`
    if (headers.authorization !== expected) return { status: 401, refusal: 'Unauthorized', headers: { 'www-authenticate': 'Basic realm="Jenkins"' }, body: 'Unauthorized' }
    if (!JENKINS_PATH.test(path)) return refuse(404, 'Not Found')
    if (url.searchParams.get('CDEVENT_TYPE') === null) return refuse(400, 'Nothing is submitted')
    return { status: 201, headers: { location: `${this.baseUrl}/queue/item/${this.requests.length + 1}/` } }
  }
}
