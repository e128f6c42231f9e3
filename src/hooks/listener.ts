import Fastify, { type FastifyBaseLogger, type FastifyError, type FastifyInstance, type FastifyReply, type FastifyRequest } from 'fastify'
import type { Logger } from 'pino'
import { isCdgossipError, type ErrorCode } from '../errors.js'
import type { CDEvent } from '../events/types.js'
import { KeyedBuckets, type BucketRate } from './rate-limit.js'
import type { AnySourceKind } from './registry.js'
import { SOURCE_NAME_REGEX, type Source } from './sources.js'
import type { HookDelivery, SourceSecrets, Translation } from './types.js'

/**
 * The hooks listener: a Fastify instance of its own, apart from the token-protected REST API,
 * meant to be reachable by the tools (directly or behind a reverse proxy). It serves
 * `POST /hooks/{name}` for the configured sources and nothing else: no docs, no metrics, no
 * version, 404 for everything else. Every delivery goes: per-address rate limit → the kind's own
 * authentication (401, nothing stored) → per-source rate limit → translation (202 ignored, 400
 * malformed) → the node's publish path (validate, sign, store, gossip) → 202 with the receipts,
 * or 200 when a redelivery changed nothing.
 */

/**
 * 1 MiB: GitHub caps webhook payloads at 25 MB but real deliveries of the mapped events are a
 * few KiB to a few hundred KiB (a push with many commits is the big one, and it is not mapped);
 * bigger bodies cost parsing and HMAC time for nothing.
 */
export const DEFAULT_HOOKS_BODY_LIMIT = 1024 * 1024
/**
 * Per source: 200 deliveries at once (one push or merge can fan out into dozens of workflow_job
 * and check_run deliveries within a second), then 10 per second sustained, far above what a
 * community's tool sends and low enough that a runaway tool cannot flood the federation.
 */
export const HOOK_SOURCE_RATE: Readonly<BucketRate> = Object.freeze({ perSecond: 10, burst: 200 })
/**
 * Per remote address, before authentication: bounds what an unauthenticated sender can make the
 * node hash. Higher than one source's, since behind a reverse proxy every tool shares the
 * proxy's address.
 */
export const HOOK_ADDRESS_RATE: Readonly<BucketRate> = Object.freeze({ perSecond: 50, burst: 500 })
/** Remote addresses tracked at once (a bucket each); the least recently seen is forgotten past this. */
export const MAX_TRACKED_ADDRESSES = 10_000

/** How a delivery to a configured source ended; `received` is their sum. */
export const HOOK_OUTCOMES = ['published', 'ignored', 'refused', 'failed', 'limited'] as const
export type HookOutcome = typeof HOOK_OUTCOMES[number]

/** Per source, since the node started. */
export type HookCounts = Record<HookOutcome | 'received', number>

/** A source ready to receive: its kind, its parsed settings and its secrets (read at load). */
export interface ActiveSource {
  source: Source
  kind: AnySourceKind
  settings: unknown
  secrets: SourceSecrets
}

/** What the node's publish path answers per event (the REST API's receipt). */
export interface HookReceipt {
  digest: string
  id: string
  source: string
  type: string
  status: 'created' | 'existing'
}

export interface HooksListenerComponents {
  /** already bound to the component */
  log: Logger
  /** the node's publish path: validate, sign, store, gossip; all-or-nothing */
  publish: (events: CDEvent[]) => Promise<HookReceipt[]>
  /** the active source of a name, if any */
  source: (name: string) => ActiveSource | undefined
  /** told of every delivery to a configured source; must not throw */
  observe?: (source: string, outcome: HookOutcome) => void
}

export interface HooksListenerInit {
  /** @default DEFAULT_HOOKS_BODY_LIMIT */
  bodyLimit?: number
  /** @default HOOK_SOURCE_RATE */
  perSource?: BucketRate
  /** @default HOOK_ADDRESS_RATE */
  perAddress?: BucketRate
  /** @default Date.now */
  now?: () => number
}

/** The delivery as the kinds see it: lower-case header names, repeated headers joined. */
export function toDelivery (headers: FastifyRequest['headers'], body: unknown): HookDelivery {
  const out: Record<string, string | undefined> = {}
  for (const [name, value] of Object.entries(headers)) {
    out[name.toLowerCase()] = Array.isArray(value) ? value.join(', ') : value
  }
  const bytes = body instanceof Uint8Array ? body : typeof body === 'string' ? Buffer.from(body, 'utf8') : new Uint8Array(0)
  return { headers: out, body: bytes }
}

/** The kind's translation of an authentic delivery (awaited: the generic kind's is asynchronous). */
export async function translateDelivery (active: ActiveSource, delivery: HookDelivery): Promise<Translation> {
  return await active.kind.translate(delivery, active.settings)
}

function errorBody (statusCode: number, code: string, message: string): Record<string, unknown> {
  return { statusCode, code, error: statusText(statusCode), message }
}

function statusText (statusCode: number): string {
  return ({ 400: 'Bad Request', 401: 'Unauthorized', 404: 'Not Found', 409: 'Conflict', 413: 'Payload Too Large', 429: 'Too Many Requests', 503: 'Service Unavailable' } as Record<number, string>)[statusCode] ?? 'Internal Server Error'
}

/**
 * The status of a failure to publish what a kind made. The payload's fault (the event it made is
 * not valid, or conflicts with one already stored under its id) is a 4xx the tool's delivery log
 * shows; the node's is a 5xx the tool retries.
 */
const PUBLISH_STATUS: Partial<Record<ErrorCode, number>> = {
  CDG_INVALID_EVENT: 400,
  CDG_INVALID_REQUEST: 400,
  CDG_UNSUPPORTED_SPEC_VERSION: 400,
  CDG_INVALID_CLOUDEVENT: 400,
  CDG_EVENT_TOO_LARGE: 413,
  CDG_CONFLICTING_EVENT: 409,
  CDG_NOT_STARTED: 503,
  CDG_ABORTED: 503
}

export class HooksListener {
  private readonly components: HooksListenerComponents
  private readonly bodyLimit: number
  private readonly perSource: KeyedBuckets
  private readonly perAddress: KeyedBuckets
  private readonly counts = new Map<string, HookCounts>()
  private app: FastifyInstance | undefined
  private urlValue: string | undefined
  /** a start in progress: a second start (two sources added at once) waits for it */
  private starting: Promise<string> | undefined

  constructor (components: HooksListenerComponents, init: HooksListenerInit = {}) {
    this.components = components
    this.bodyLimit = init.bodyLimit ?? DEFAULT_HOOKS_BODY_LIMIT
    this.perSource = new KeyedBuckets(init.perSource ?? HOOK_SOURCE_RATE, MAX_TRACKED_ADDRESSES, init.now)
    this.perAddress = new KeyedBuckets(init.perAddress ?? HOOK_ADDRESS_RATE, MAX_TRACKED_ADDRESSES, init.now)
  }

  /** `http://host:port` while listening */
  get url (): string | undefined {
    return this.urlValue
  }

  get listening (): boolean {
    return this.app !== undefined
  }

  /** Counts of a source since the node started (zeros for a source that got nothing yet). */
  countsOf (name: string): HookCounts {
    return { ...(this.counts.get(name) ?? zeroCounts()) }
  }

  /** A removed source's counts and bucket go with it. */
  forget (name: string): void {
    this.counts.delete(name)
    this.perSource.forget(name)
  }

  async start (host: string, port: number): Promise<string> {
    if (this.app !== undefined) return this.urlValue ?? ''
    this.starting ??= (async () => {
      const app = this.build()
      try {
        const address = await app.listen({ host, port })
        this.app = app
        this.urlValue = address.replace('[::1]', '127.0.0.1')
        return this.urlValue
      } finally {
        this.starting = undefined
      }
    })()
    return await this.starting
  }

  async stop (): Promise<void> {
    await this.starting?.catch(() => {})
    const app = this.app
    this.app = undefined
    this.urlValue = undefined
    await app?.close()
  }

  /** The Fastify instance without listening (tests may inject). */
  build (): FastifyInstance {
    const app = Fastify({
      loggerInstance: this.components.log as FastifyBaseLogger,
      disableRequestLogging: true,
      bodyLimit: this.bodyLimit,
      // a tool retries a delivery that timed out; one stuck sender must not hold a socket long
      requestTimeout: 30_000
    })
    // every body as raw bytes, whatever its content type: signatures are over the exact bytes
    app.removeAllContentTypeParsers()
    app.addContentTypeParser('*', { parseAs: 'buffer' }, (_request, body, done) => { done(null, body) })
    app.setNotFoundHandler(async (_request, reply) => await reply.code(404).send(errorBody(404, 'CDG_NOT_FOUND', 'not found')))
    app.setErrorHandler(async (err: FastifyError, request, reply) => {
      const status = typeof err.statusCode === 'number' && err.statusCode >= 400 && err.statusCode < 500 ? err.statusCode : 500
      if (status === 500) this.components.log.error({ err, url: request.url }, 'hooks listener failure')
      const code = status === 413 ? 'CDG_EVENT_TOO_LARGE' : status === 500 ? 'CDG_INTERNAL' : 'CDG_INVALID_REQUEST'
      return await reply.code(status).send(errorBody(status, code, status === 500 ? 'internal error' : err.message))
    })
    app.post<{ Params: { name: string } }>('/hooks/:name', {
      schema: { params: { type: 'object', required: ['name'], properties: { name: { type: 'string', pattern: SOURCE_NAME_REGEX } } } },
      // an invalid name is just a name nobody configured
      attachValidation: true,
      // before the body is read: a flood, or a probe of names nobody configured, costs no parsing
      // (a callback hook: answering here ends the request, `done` lets it go on)
      onRequest: (request, reply, done) => {
        const retryAfter = this.perAddress.take(request.ip)
        if (retryAfter > 0) { void limited(reply, retryAfter); return }
        if (this.components.source(request.params.name) === undefined) { void reply.code(404).send(errorBody(404, 'CDG_NOT_FOUND', 'not found')); return }
        done()
      }
    }, async (request, reply) => await this.handle(request, reply))
    return app
  }

  private async handle (request: FastifyRequest<{ Params: { name: string } }>, reply: FastifyReply): Promise<unknown> {
    const active = request.validationError === undefined ? this.components.source(request.params.name) : undefined
    if (active === undefined) return await reply.code(404).send(errorBody(404, 'CDG_NOT_FOUND', 'not found'))
    const name = active.source.name
    const { log } = this.components
    const delivery = toDelivery(request.headers, request.body)
    if (!active.kind.authenticate(delivery, active.secrets, active.settings)) {
      this.count(name, 'refused')
      log.info({ source: name, remoteAddress: request.ip }, 'webhook refused: missing or wrong credential')
      return await reply.code(401).send(errorBody(401, 'CDG_UNAUTHORIZED', `missing or wrong ${active.kind.name} webhook credential`))
    }
    const retryAfterSource = this.perSource.take(name)
    if (retryAfterSource > 0) {
      this.count(name, 'limited')
      return await limited(reply, retryAfterSource)
    }
    let translation: Translation
    try {
      translation = await translateDelivery(active, delivery)
    } catch (err) {
      this.count(name, 'failed')
      if (!isCdgossipError(err)) throw err
      log.info({ source: name, reason: err.message }, 'webhook malformed')
      return await reply.code(400).send(errorBody(400, err.code, err.message))
    }
    if (translation.kind === 'ignored') {
      this.count(name, 'ignored')
      log.debug({ source: name, reason: translation.reason }, 'webhook ignored: no mapping')
      return await reply.code(202).send({ ignored: translation.reason })
    }
    let receipts: HookReceipt[]
    try {
      receipts = await this.components.publish(translation.events)
    } catch (err) {
      this.count(name, 'failed')
      if (!isCdgossipError(err)) throw err
      const status = PUBLISH_STATUS[err.code] ?? 500
      log.warn({ source: name, code: err.code, reason: err.message }, 'webhook events not published')
      return await reply.code(status).send(errorBody(status, err.code, err.message))
    }
    this.count(name, 'published')
    // a redelivered webhook is an idempotent repeat: nothing new, so 200, not 202
    const repeat = receipts.length > 0 && receipts.every(r => r.status === 'existing')
    log.info({ source: name, events: receipts.map(r => ({ type: r.type, id: r.id, digest: r.digest, status: r.status })) }, 'webhook published')
    return await reply.code(repeat ? 200 : 202).send({ receipts })
  }

  private count (name: string, outcome: HookOutcome): void {
    let counts = this.counts.get(name)
    if (counts === undefined) {
      counts = zeroCounts()
      this.counts.set(name, counts)
    }
    counts.received++
    counts[outcome]++
    try {
      this.components.observe?.(name, outcome)
    } catch (err) {
      this.components.log.warn({ err }, 'hook delivery observer failed')
    }
  }
}

async function limited (reply: FastifyReply, retryAfterSeconds: number): Promise<unknown> {
  return await reply.code(429).header('retry-after', String(retryAfterSeconds)).send(errorBody(429, 'CDG_RATE_LIMITED', `too many webhook deliveries; retry after ${retryAfterSeconds} s`))
}

function zeroCounts (): HookCounts {
  return { received: 0, published: 0, ignored: 0, refused: 0, failed: 0, limited: 0 }
}
