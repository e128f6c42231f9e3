import http from 'node:http'
import { sleep } from './stats.js'

/**
 * Load generation over plain node:http with a keep-alive agent: cheaper per request than fetch,
 * and the client shares the machine's two cores with the nodes it measures.
 */

/** Upper bound on a response body the bench reads (a 500-event batch receipt is ~150 KB). */
const MAX_RESPONSE_BYTES = 8 * 1024 * 1024
/** No single bench request may hang longer than this. */
const REQUEST_TIMEOUT_MS = 30_000

export interface HttpResult {
  status: number
  text: string
}

export class HttpClient {
  readonly baseUrl: URL
  private readonly token: string
  private readonly agent: http.Agent

  constructor (baseUrl: string, token: string, maxSockets = 64) {
    this.baseUrl = new URL(baseUrl)
    if (this.baseUrl.hostname !== '127.0.0.1' && this.baseUrl.hostname !== 'localhost') throw new Error(`bench talks to 127.0.0.1 only, not ${baseUrl}`)
    this.token = token
    this.agent = new http.Agent({ keepAlive: true, maxSockets })
  }

  async request (method: string, path: string, body?: Buffer, contentType = 'application/json'): Promise<HttpResult> {
    const { status, bytes } = await this.requestBytes(method, path, body, contentType)
    return { status, text: bytes.toString('utf8') }
  }

  /** The response body as bytes: for a caller that only counts or measures it, no string on the V8 heap. */
  async requestBytes (method: string, path: string, body?: Buffer, contentType = 'application/json'): Promise<{ status: number, bytes: Buffer }> {
    return await new Promise((resolve, reject) => {
      const headers: Record<string, string | number> = { authorization: `Bearer ${this.token}` }
      if (body !== undefined) {
        headers['content-type'] = contentType
        headers['content-length'] = body.length
      }
      const req = http.request({
        host: this.baseUrl.hostname,
        port: this.baseUrl.port,
        method,
        path,
        headers,
        agent: this.agent,
        timeout: REQUEST_TIMEOUT_MS
      }, res => {
        const chunks: Buffer[] = []
        let size = 0
        res.on('data', (chunk: Buffer) => {
          size += chunk.length
          if (size > MAX_RESPONSE_BYTES) {
            req.destroy(new Error(`response to ${method} ${path} exceeds ${MAX_RESPONSE_BYTES} bytes`))
            return
          }
          chunks.push(chunk)
        })
        res.on('end', () => { resolve({ status: res.statusCode ?? 0, bytes: Buffer.concat(chunks) }) })
        res.on('error', reject)
      })
      req.on('timeout', () => { req.destroy(new Error(`${method} ${path} timed out after ${REQUEST_TIMEOUT_MS} ms`)) })
      req.on('error', reject)
      req.end(body)
    })
  }

  async getJson<T> (path: string): Promise<T> {
    const res = await this.request('GET', path)
    if (res.status !== 200) throw new Error(`GET ${path}: HTTP ${res.status} ${res.text.slice(0, 300)}`)
    return JSON.parse(res.text) as T
  }

  close (): void {
    this.agent.destroy()
  }
}

export interface LoopResult {
  completed: number
  failed: number
  elapsedMs: number
  firstError?: string
  /** open loop only: sends skipped because `maxInFlight` requests were already outstanding */
  skipped?: number
}

/**
 * Closed loop: keep `inFlight` operations outstanding until `total` are done or `maxMs` passes
 * (then the ones in flight finish and no new ones start).
 */
export async function closedLoop (options: { total: number, inFlight: number, maxMs: number, send: (index: number) => Promise<void> }): Promise<LoopResult> {
  const { total, inFlight, maxMs, send } = options
  let next = 0
  let completed = 0
  let failed = 0
  let firstError: string | undefined
  const start = performance.now()
  const deadline = start + maxMs
  const worker = async (): Promise<void> => {
    while (next < total && performance.now() < deadline) {
      const index = next++
      try {
        await send(index)
        completed++
      } catch (err) {
        failed++
        firstError ??= (err as Error).message
        // a failing target must not turn the loop into a busy spin
        if (failed > 100) return
      }
    }
  }
  await Promise.all(Array.from({ length: inFlight }, async () => { await worker() }))
  return { completed, failed, elapsedMs: performance.now() - start, ...(firstError === undefined ? {} : { firstError }) }
}

/** Open-loop sends are issued in ticks of this length (timers are ~1 ms coarse anyway). */
const OPEN_LOOP_TICK_MS = 5

/**
 * Open loop: start operation i at start + i/rate, whatever the previous ones are doing, up to
 * `total` operations or `maxMs`; never more than `maxInFlight` outstanding (a send that would
 * exceed it is skipped and counted, so an overloaded target cannot grow the client without bound).
 */
export async function openLoop (options: { total: number, ratePerSec: number, maxInFlight: number, maxMs: number, send: (index: number) => Promise<void> }): Promise<LoopResult> {
  const { total, ratePerSec, maxInFlight, maxMs, send } = options
  let issued = 0
  let inFlight = 0
  let completed = 0
  let failed = 0
  let skipped = 0
  let firstError: string | undefined
  const pending = new Set<Promise<void>>()
  const start = performance.now()
  const maxTicks = Math.ceil(maxMs / OPEN_LOOP_TICK_MS) + 1
  for (let tick = 0; tick < maxTicks && issued + skipped < total; tick++) {
    const elapsed = performance.now() - start
    if (elapsed >= maxMs) break
    const due = Math.min(total, Math.floor((elapsed / 1000) * ratePerSec) + 1)
    while (issued + skipped < due) {
      if (inFlight >= maxInFlight) {
        skipped++
        continue
      }
      const index = issued++
      inFlight++
      const p: Promise<void> = send(index).then(() => { completed++ }, (err: unknown) => {
        failed++
        firstError ??= (err as Error).message
      }).finally(() => { inFlight--; pending.delete(p) })
      pending.add(p)
    }
    await sleep(OPEN_LOOP_TICK_MS)
  }
  await Promise.all([...pending])
  return { completed, failed, skipped, elapsedMs: performance.now() - start, ...(firstError === undefined ? {} : { firstError }) }
}

/** Most reconnects one SSE watcher makes (after an `overflow` frame or a dropped connection). */
const MAX_SSE_RECONNECTS = 50
/** Longest SSE frame the bench accepts before it gives up on the stream. */
const MAX_SSE_FRAME = 1024 * 1024
const DIGEST_IN_FRAME = /"digest":"([0-9a-f]{64})"/

/**
 * Reads GET /v1/stream and reports each record's digest with the time its frame arrived: the
 * moment the record is available to a subscriber of that node. Reconnects with Last-Event-ID
 * after an overflow (the node drops a consumer that falls 1,000 records behind).
 */
export class SseWatcher {
  reconnects = 0
  overflows = 0
  received = 0
  private readonly url: URL
  private readonly token: string
  private readonly onEvent: (digest: string, at: number) => void
  private request: http.ClientRequest | undefined
  private lastEventId: string | undefined
  private closed = false
  private connectedOnce: Promise<void> | undefined

  constructor (baseUrl: string, token: string, onEvent: (digest: string, at: number) => void) {
    this.url = new URL('/v1/stream', baseUrl)
    this.token = token
    this.onEvent = onEvent
  }

  /** error of the first connection attempt, if it failed */
  error: Error | undefined

  /**
   * Opens the stream; resolves when its headers arrived. The stream replays the store from its
   * start, then goes live, so records stored before the headers arrive are reported too (late).
   */
  async start (): Promise<void> {
    this.connectedOnce ??= this.connect().catch((err: unknown) => {
      this.error = err as Error
      throw err
    })
    await this.connectedOnce
  }

  private async connect (): Promise<void> {
    await new Promise<void>((resolve, reject) => {
      const headers: Record<string, string> = { authorization: `Bearer ${this.token}`, accept: 'text/event-stream' }
      if (this.lastEventId !== undefined) headers['last-event-id'] = this.lastEventId
      const req = http.get({ host: this.url.hostname, port: this.url.port, path: this.url.pathname, headers }, res => {
        if (res.statusCode !== 200) {
          reject(new Error(`GET /v1/stream: HTTP ${res.statusCode ?? 0}`))
          res.resume()
          return
        }
        resolve()
        let buffer = ''
        res.setEncoding('utf8')
        res.on('data', (chunk: string) => {
          const at = performance.now()
          buffer += chunk
          let end = buffer.indexOf('\n\n')
          while (end >= 0) {
            this.frame(buffer.slice(0, end), at)
            buffer = buffer.slice(end + 2)
            end = buffer.indexOf('\n\n')
          }
          if (buffer.length > MAX_SSE_FRAME) res.destroy(new Error('SSE frame too large'))
        })
        res.on('close', () => { this.reopen() })
        res.on('error', () => { /* close follows */ })
      })
      req.on('error', err => { reject(err) })
      this.request = req
    })
  }

  private frame (text: string, at: number): void {
    if (text.startsWith(':')) return
    let event = 'message'
    for (const line of text.split('\n', 3)) {
      if (line.startsWith('id: ')) this.lastEventId = line.slice(4)
      else if (line.startsWith('event: ')) event = line.slice(7)
    }
    if (event === 'overflow') {
      this.overflows++
      return
    }
    if (event !== 'cdevent') return
    const digest = DIGEST_IN_FRAME.exec(text)?.[1]
    if (digest === undefined) return
    this.received++
    this.onEvent(digest, at)
  }

  private reopen (): void {
    if (this.closed || this.reconnects >= MAX_SSE_RECONNECTS) return
    this.reconnects++
    this.connect().catch(() => { /* the node went away; the part notices missing records */ })
  }

  close (): void {
    this.closed = true
    this.request?.destroy()
  }
}
