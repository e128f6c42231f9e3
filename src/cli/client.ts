import { readFile } from 'node:fs/promises'
import { CdgossipError, ERROR_CODES, type ErrorCode } from '../errors.js'
import { dataDirPaths, readApiToken, readApiUrl } from '../data-dir.js'
import { readConfigFile, DEFAULT_API_PORT } from '../config.js'
import { findJsonSyntaxError, positionOf } from './json-syntax.js'

/**
 * A small REST client for the node's API, used by the CLI and the demo. It speaks
 * only HTTP: tools in any language can do the same with the README's API section.
 */

export interface ApiErrorBody {
  statusCode: number
  code: string
  error: string
  message: string
  /** in a refused batch each also names its event: `index` (from 0) and `id` */
  violations?: Array<{ path: string, message: string, index?: number, id?: string }>
  mismatches?: unknown[]
}

export class ApiError extends CdgossipError<ApiErrorBody> {
  readonly statusCode: number
  constructor (body: ApiErrorBody) {
    const code: ErrorCode = (ERROR_CODES as readonly string[]).includes(body.code) ? body.code as ErrorCode : 'CDG_INVALID_REQUEST'
    super(code, body.message, { details: body })
    this.name = 'ApiError'
    this.statusCode = body.statusCode
  }
}

/** One node URL that did not answer, and why (connection refused, no answer in time). */
export interface UnansweredUrl {
  url: string
  why: string
}

export class UnreachableNodeError extends CdgossipError<{ tried: UnansweredUrl[] }> {
  constructor (tried: UnansweredUrl[], cause: unknown) {
    const message = tried.length === 1
      ? `cannot reach the cdgossip node at ${tried[0]?.url ?? ''} (is it running? start it with: cdgossip start)`
      : `cannot reach any of the cdgossip nodes at ${tried.map(t => `${t.url} (${t.why})`).join(', ')} (are they running? start one with: cdgossip start)`
    super('CDG_NOT_STARTED', message, { details: { tried }, cause })
    this.name = 'UnreachableNodeError'
  }
}

export interface ClientInit {
  /** the node's REST URL, or several (nodes of one community): tried in order while one does not answer */
  baseUrl: string | readonly string[]
  token: string
  /** per-request timeout in ms, per URL tried @default 30000 */
  timeoutMs?: number
}

export interface RequestBody {
  json?: unknown
  raw?: string
  contentType?: string
  /**
   * Sending it twice does no harm, so after a timeout (the node may have received it) the next
   * URL may get it too. GET, HEAD, PUT and DELETE are by HTTP's rules; of the POSTs, publishing
   * and importing events are (a node stores one record per (source, id) and answers a repeat
   * as a duplicate) and so is publishing a community manifest chain (the same version again is
   * stale). A request whose connection was refused was never received and always moves on.
   */
  idempotent?: boolean
}

const DEFAULT_TIMEOUT_MS = 30_000
const IDEMPOTENT_METHODS = new Set(['GET', 'HEAD', 'PUT', 'DELETE', 'OPTIONS'])
/** Connection failures after which nothing was sent: safe to send any request to the next URL. */
const NOT_SENT = new Set(['ECONNREFUSED', 'ENOTFOUND', 'EAI_AGAIN', 'EHOSTUNREACH', 'ENETUNREACH', 'EADDRNOTAVAIL', 'UND_ERR_CONNECT_TIMEOUT'])

/** Why fetch failed, short: the errno undici wraps (`ECONNREFUSED`), else its message. */
function failureReason (err: unknown): string {
  const cause = (err as { cause?: { code?: unknown, message?: unknown } }).cause
  if (typeof cause?.code === 'string') return cause.code
  return typeof cause?.message === 'string' ? cause.message : (err as Error).message
}

export class ApiClient {
  /** every URL this client may use, in the order given */
  readonly baseUrls: readonly string[]
  private readonly token: string
  private readonly timeoutMs: number
  /** the URL that answered last: requests start there, so a dead first node costs one failure, not one per request */
  private current = 0

  constructor (init: ClientInit) {
    const urls = typeof init.baseUrl === 'string' ? [init.baseUrl] : init.baseUrl
    if (urls.length === 0) throw new Error('ApiClient needs at least one base URL')
    this.baseUrls = urls.map(u => u.replace(/\/+$/, ''))
    this.token = init.token
    this.timeoutMs = init.timeoutMs ?? DEFAULT_TIMEOUT_MS
  }

  /** The URL in use: the one that answered last (the first before any request). */
  get baseUrl (): string {
    return this.baseUrls[this.current] as string
  }

  /**
   * Performs a request; JSON in and out; non-2xx answers throw ApiError with the node's error
   * body. A URL that does not answer (connection refused, reset, no answer within the timeout)
   * passes the request to the next one, but after a timeout only when it is idempotent; an HTTP
   * answer, even an error, ends the request. When none answers, the error names every URL tried.
   */
  async request<T> (method: string, path: string, body?: RequestBody, signal?: AbortSignal): Promise<{ status: number, body: T }> {
    const headers: Record<string, string> = { authorization: `Bearer ${this.token}` }
    let payload: string | undefined
    if (body?.json !== undefined) {
      payload = JSON.stringify(body.json)
      headers['content-type'] = body.contentType ?? 'application/json'
    } else if (body?.raw !== undefined) {
      payload = body.raw
      headers['content-type'] = body.contentType ?? 'application/json'
    }
    const idempotent = body?.idempotent ?? IDEMPOTENT_METHODS.has(method)
    const res = await this.answer(async (url, timeout) => await fetch(url + path, { method, headers, body: payload, signal: signal === undefined ? timeout : AbortSignal.any([signal, timeout]) }), signal, {
      idempotent,
      timedOut: url => new CdgossipError('CDG_TIMEOUT', `${method} ${path}: no answer from ${url} within ${this.timeoutMs} ms`)
    })
    const text = await res.text()
    let parsed: unknown
    try {
      parsed = text === '' ? undefined : JSON.parse(text)
    } catch {
      parsed = text
    }
    if (!res.ok) {
      const errBody = (typeof parsed === 'object' && parsed !== null ? parsed : { message: String(parsed) }) as Partial<ApiErrorBody>
      throw new ApiError({ statusCode: res.status, code: errBody.code ?? 'CDG_INVALID_REQUEST', error: errBody.error ?? res.statusText, message: errBody.message ?? res.statusText, violations: errBody.violations, mismatches: errBody.mismatches })
    }
    return { status: res.status, body: parsed as T }
  }

  /**
   * The web page's login link, as `cdgossip ui` prints it: the token rides in the query (Jupyter's
   * convention) and the node trades it for a session cookie at once, redirecting to a clean URL.
   */
  uiLoginUrl (): string {
    return `${this.baseUrl}/ui/?token=${encodeURIComponent(this.token)}`
  }

  /** Opens the SSE stream (at the first URL that answers); returns the raw response for the caller to read. */
  async stream (path: string, lastEventId: string | undefined, signal: AbortSignal): Promise<Response> {
    const headers: Record<string, string> = { authorization: `Bearer ${this.token}`, accept: 'text/event-stream' }
    if (lastEventId !== undefined) headers['last-event-id'] = lastEventId
    // no timeout: a stream stays open; a node that accepts the connection answers
    const res = await this.answer(async url => await fetch(url + path, { headers, signal }), signal, { idempotent: true })
    if (!res.ok) {
      const body = await res.json().catch(() => ({})) as Partial<ApiErrorBody>
      throw new ApiError({ statusCode: res.status, code: body.code ?? 'CDG_INVALID_REQUEST', error: body.error ?? res.statusText, message: body.message ?? res.statusText })
    }
    return res
  }

  /**
   * `send` to each URL in turn, from the one that answered last, until one answers. An abort by
   * the caller stays an abort. A request that is not idempotent moves on only when the
   * connection was never made (NOT_SENT); after a timeout (`timedOut`) or a reset the node may
   * have acted on it.
   */
  private async answer (send: (url: string, timeout: AbortSignal) => Promise<Response>, signal: AbortSignal | undefined, options: { idempotent: boolean, timedOut?: (url: string) => CdgossipError }): Promise<Response> {
    const tried: UnansweredUrl[] = []
    let lastError: unknown
    let allTimedOut = true
    for (let i = 0; i < this.baseUrls.length; i++) {
      const index = (this.current + i) % this.baseUrls.length
      const url = this.baseUrls[index] as string
      const timeout = AbortSignal.timeout(this.timeoutMs)
      try {
        const res = await send(url, timeout)
        this.current = index
        return res
      } catch (err) {
        if (signal?.aborted === true) throw err
        lastError = err
        const timedOut = options.timedOut !== undefined && timeout.aborted
        allTimedOut &&= timedOut
        const why = timedOut ? `no answer within ${this.timeoutMs} ms` : failureReason(err)
        if (timedOut && (!options.idempotent || this.baseUrls.length === 1)) throw options.timedOut?.(url) ?? err
        tried.push({ url, why })
        if (!options.idempotent && !NOT_SENT.has(why)) throw new UnreachableNodeError(tried, err)
      }
    }
    if (allTimedOut && options.timedOut !== undefined) throw new CdgossipError('CDG_TIMEOUT', `no answer within ${this.timeoutMs} ms from any of ${tried.map(t => t.url).join(', ')}`, { cause: lastError })
    throw new UnreachableNodeError(tried, lastError)
  }
}

/** Records per import request: half the API's batch cap (MAX_BATCH_ITEMS, 1000), so progress moves and one bad request costs little. */
export const IMPORT_CHUNK_ITEMS = 500
/** Request body budget per import chunk: under the API's default 1 MiB body limit with room for the array's commas. */
export const IMPORT_CHUNK_BYTES = 768 * 1024

export interface ImportSummary {
  stored: number
  duplicates: number
  /** `index` is the record's position in the whole input, from 0 */
  refused: Array<{ index: number, code: string, message: string }>
}

/**
 * POST /v1/records in chunks (the API caps a body at 1000 items and api.bodyLimit bytes) and
 * add up the answers. A chunk the node finds too large (413: a smaller api.bodyLimit) is split
 * in halves; a single record it still refuses is reported as refused, as is anything that is not
 * a JSON object (the route would fail its whole chunk for it).
 */
export async function importRecords (api: ApiClient, records: unknown[], options: { onProgress?: (done: number) => void, signal?: AbortSignal } = {}): Promise<ImportSummary> {
  const summary: ImportSummary = { stored: 0, duplicates: 0, refused: [] }
  let done = 0
  const send = async (chunk: Array<{ index: number, record: unknown }>): Promise<void> => {
    if (chunk.length === 0) return
    let body: ImportSummary
    try {
      ({ body } = await api.request<ImportSummary>('POST', '/v1/records', { json: chunk.map(c => c.record), idempotent: true }, options.signal))
    } catch (err) {
      if (!(err instanceof ApiError) || err.statusCode !== 413) throw err
      if (chunk.length === 1) {
        summary.refused.push({ index: chunk[0]?.index ?? 0, code: err.code, message: err.message })
        done++
        options.onProgress?.(done)
        return
      }
      const half = Math.ceil(chunk.length / 2)
      await send(chunk.slice(0, half))
      await send(chunk.slice(half))
      return
    }
    summary.stored += body.stored
    summary.duplicates += body.duplicates
    for (const r of body.refused) summary.refused.push({ ...r, index: chunk[r.index]?.index ?? r.index })
    done += chunk.length
    options.onProgress?.(done)
  }
  let chunk: Array<{ index: number, record: unknown }> = []
  let bytes = 2
  for (const [index, record] of records.entries()) {
    if (typeof record !== 'object' || record === null || Array.isArray(record)) {
      summary.refused.push({ index, code: 'CDG_INVALID_REQUEST', message: 'not a JSON object (a signed record is a CloudEvent in JSON)' })
      done++
      continue
    }
    const size = Buffer.byteLength(JSON.stringify(record)) + 1
    if (chunk.length > 0 && (chunk.length >= IMPORT_CHUNK_ITEMS || bytes + size > IMPORT_CHUNK_BYTES)) {
      await send(chunk)
      chunk = []
      bytes = 2
    }
    chunk.push({ index, record })
    bytes += size
  }
  await send(chunk)
  summary.refused.sort((a, b) => a.index - b.index)
  return summary
}

/**
 * Where a client finds its node: explicit values, then CDGOSSIP_API_URL (one URL or a
 * comma-separated list) / CDGOSSIP_TOKEN, then the data dir: the running node's api-url file,
 * else config (api.host/port), and api-token.
 */
export async function resolveClient (options: { dataDir: string, apiUrl?: string | readonly string[], token?: string }, env: NodeJS.ProcessEnv = process.env): Promise<ApiClient> {
  // an empty variable (`CDGOSSIP_API_URL= cdgossip status`) is unset, as shells mean it
  const fromEnv = (name: 'CDGOSSIP_API_URL' | 'CDGOSSIP_TOKEN'): string | undefined => env[name] === '' ? undefined : env[name]
  let baseUrl = options.apiUrl ?? splitUrlList(fromEnv('CDGOSSIP_API_URL')) ?? await readApiUrl(options.dataDir)
  if (baseUrl === undefined) {
    const file = await readConfigFile(options.dataDir)
    const host = file?.config.api?.host ?? '127.0.0.1'
    const port = file?.config.api?.port ?? DEFAULT_API_PORT
    baseUrl = `http://${host.includes(':') ? `[${host}]` : host}:${port}`
  }
  let token = options.token ?? fromEnv('CDGOSSIP_TOKEN')
  if (token === undefined) {
    try {
      token = await readApiToken(options.dataDir)
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === 'ENOENT') {
        throw new CdgossipError('CDG_CONFIG', `no API token: ${dataDirPaths(options.dataDir).token} does not exist (run cdgossip init, or set CDGOSSIP_TOKEN)`)
      }
      throw err
    }
  }
  return new ApiClient({ baseUrl, token })
}

/** `http://a:7070, http://b:7070` as its URLs; `undefined` for nothing but commas and spaces. */
export function splitUrlList (value: string | undefined): string[] | undefined {
  const urls = (value ?? '').split(',').map(u => u.trim()).filter(u => u !== '')
  return urls.length === 0 ? undefined : urls
}

/** Reads events from a file or stdin: one JSON value, a JSON array, or JSON lines. */
export async function readJsonInput (file: string | undefined): Promise<unknown[]> {
  const stdin = file === undefined || file === '-'
  const text = stdin ? await readStdin() : await readFile(file, 'utf8')
  return parseJsonDocuments(text, stdin ? '<stdin>' : file)
}

/** `name:line:column: what` for a syntax error at `offset` of `text` (a file, or one of its lines). */
function syntaxError (name: string, text: string, lineOffset: number, fallback: string): CdgossipError {
  const problem = findJsonSyntaxError(text) ?? { offset: 0, message: fallback }
  const at = positionOf(text, problem.offset)
  return new CdgossipError('CDG_INVALID_REQUEST', `${name}:${at.line + lineOffset}:${at.column}: ${problem.message}`)
}

/**
 * One JSON value (an array is a list of documents), or JSON lines. Which one a text is meant to
 * be is decided by its first line: JSON lines start with a complete value; a pretty-printed
 * document does not. So a syntax error is reported where it is, `name:line:column: what`, not
 * as "line 1 is not JSON" for a pretty-printed file with a missing comma on line 12.
 */
export function parseJsonDocuments (input: string, name = 'input'): unknown[] {
  // editors on Windows may save a byte-order mark; JSON.parse refuses it
  const text = input.replace(/^\uFEFF/, '')
  if (text.trim() === '') return []
  let whole: Error
  try {
    const value: unknown = JSON.parse(text)
    return Array.isArray(value) ? value : [value]
  } catch (err) {
    whole = err as Error
  }
  const lines = text.split('\n')
  const first = lines.findIndex(l => l.trim() !== '')
  const parsesAlone = (line: string): boolean => {
    try {
      JSON.parse(line)
      return true
    } catch {
      return false
    }
  }
  if (!parsesAlone(lines[first] ?? '')) throw syntaxError(name, text, 0, whole.message)
  const out: unknown[] = []
  for (const [i, line] of lines.entries()) {
    if (line.trim() === '') continue
    try {
      out.push(JSON.parse(line))
    } catch (err) {
      throw syntaxError(name, line, i, (err as Error).message)
    }
  }
  return out
}

async function readStdin (): Promise<string> {
  const chunks: Buffer[] = []
  for await (const chunk of process.stdin) chunks.push(chunk as Buffer)
  return Buffer.concat(chunks).toString('utf8')
}
