import { InvalidSubscriptionError } from './errors.js'
import type { WebhookSink } from './types.js'

/**
 * The webhook sink's rules, once: what a subscription may ask of delivery (URL, mode, headers,
 * retry budget, timeout) and the defaults it gets. Subscription input (API, config file) and the
 * delivery service both check a sink with validateWebhookSink, so a sink the API accepts is one
 * delivery can run.
 */

/** RFC 9110 token: the characters a header field name may use. */
export const HEADER_NAME_REGEX = "^[!#$%&'*+.^_`|~0-9A-Za-z-]{1,64}$"
const HEADER_NAME = new RegExp(HEADER_NAME_REGEX)
/** Printable ASCII and tab: no CR/LF (header injection), no bytes Node's HTTP client refuses. */
export const HEADER_VALUE_REGEX = '^[\\t\\x20-\\x7e]*$'
const HEADER_VALUE = new RegExp(HEADER_VALUE_REGEX)

export const MAX_WEBHOOK_URL_LENGTH = 2048
/** Enough for auth and routing headers; a receiver needing more is misconfigured. */
export const MAX_WEBHOOK_HEADERS = 32
export const MAX_HEADER_VALUE_LENGTH = 4096

/** @default 'binary': CloudEvents HTTP binary mode keeps the signed data bytes as the body */
export const DEFAULT_WEBHOOK_MODE = 'binary'
/** @default 10: with the default backoff (0.5 s base, 60 s cap) about five minutes of trying */
export const DEFAULT_MAX_ATTEMPTS = 10
export const MIN_MAX_ATTEMPTS = 1
/** Every attempt holds the subscription's queue (delivery is in order): 100 is ~1.5 h at the 60 s backoff cap. */
export const MAX_MAX_ATTEMPTS = 100
/** @default 86400 (one day) */
export const DEFAULT_MAX_AGE_SECONDS = 86_400
export const MIN_MAX_AGE_SECONDS = 1
/**
 * 30 days. The age counts from the first attempt and keeps running while the node is down, so it
 * is what lets a record outlive a long outage of the node or the receiver; the attempt budget
 * bounds how long a running node keeps trying. Past a month, nobody wants the event replayed.
 */
export const MAX_MAX_AGE_SECONDS = 2_592_000
/** @default 10000 */
export const DEFAULT_TIMEOUT_MS = 10_000
/** Below 100 ms a healthy receiver across a network times out. */
export const MIN_TIMEOUT_MS = 100
/** Two minutes: the request holds the subscription's queue while it waits. */
export const MAX_TIMEOUT_MS = 120_000

/**
 * Headers delivery sets itself (CloudEvents attributes, framing, its own `X-Cdgossip-*` headers)
 * or that would let a subscription redirect or smuggle the request (hop-by-hop, proxy, fetch
 * metadata). Compared lowercase.
 */
const RESERVED_HEADERS = new Set([
  'host', 'content-length', 'content-type', 'content-encoding', 'transfer-encoding', 'connection',
  'keep-alive', 'upgrade', 'te', 'trailer', 'expect', 'forwarded'
])
export const RESERVED_HEADER_PREFIXES: readonly string[] = Object.freeze(['ce-', 'x-cdgossip-', 'proxy-', 'sec-'])

/** Whether delivery sets this header itself (or refuses to let a subscription set it). */
export function isReservedHeader (name: string): boolean {
  const lower = name.toLowerCase()
  return RESERVED_HEADERS.has(lower) || RESERVED_HEADER_PREFIXES.some(prefix => lower.startsWith(prefix))
}

/** A webhook sink that passed validateWebhookSink: every limit is filled in. */
export type CheckedWebhookSink = WebhookSink & Required<Pick<WebhookSink, 'maxAttempts' | 'maxAgeSeconds' | 'timeoutMs'>>

const WEBHOOK_FIELDS = new Set(['type', 'url', 'mode', 'headers', 'maxAttempts', 'maxAgeSeconds', 'timeoutMs'])

/**
 * JSON Schema of a webhook sink's own fields (shape and ranges; `validateWebhookSink` also parses
 * the URL and checks header names against the reserved ones). trigger-sinks.ts combines it with
 * the trigger sinks' fields into the schema of `sink`.
 */
export const webhookSinkSchemaProperties = {
  url: { type: 'string', maxLength: MAX_WEBHOOK_URL_LENGTH, pattern: '^[Hh][Tt][Tt][Pp][Ss]?://' },
  mode: { enum: ['binary', 'structured'], description: `default ${DEFAULT_WEBHOOK_MODE}` },
  headers: {
    type: 'object',
    maxProperties: MAX_WEBHOOK_HEADERS,
    propertyNames: { pattern: HEADER_NAME_REGEX },
    additionalProperties: { type: 'string', maxLength: MAX_HEADER_VALUE_LENGTH, pattern: HEADER_VALUE_REGEX },
    description: `extra request headers; not Host, Content-*, hop-by-hop ones, Forwarded, or any starting with ${RESERVED_HEADER_PREFIXES.join(', ')}`
  }
} as const

/** The retry budget and timeout every delivering sink (webhook or trigger) accepts. */
export const deliveryLimitsSchemaProperties = {
  maxAttempts: { type: 'integer', minimum: MIN_MAX_ATTEMPTS, maximum: MAX_MAX_ATTEMPTS, description: `default ${DEFAULT_MAX_ATTEMPTS}` },
  maxAgeSeconds: { type: 'integer', minimum: MIN_MAX_AGE_SECONDS, maximum: MAX_MAX_AGE_SECONDS, description: `default ${DEFAULT_MAX_AGE_SECONDS}` },
  timeoutMs: { type: 'integer', minimum: MIN_TIMEOUT_MS, maximum: MAX_TIMEOUT_MS, description: `default ${DEFAULT_TIMEOUT_MS}` }
} as const

export const WEBHOOK_SINK_FIELDS: readonly string[] = Object.freeze([...WEBHOOK_FIELDS])

/** Why a value was refused, without echoing unbounded or control characters into messages. */
export function describeValue (value: unknown): string {
  if (typeof value === 'string') return JSON.stringify(value.length > 80 ? `${value.slice(0, 80)}…` : value)
  if (value === null) return 'null'
  if (Array.isArray(value)) return 'an array'
  return `a ${typeof value}`
}

function fail (field: string, message: string): never {
  throw new InvalidSubscriptionError(field, message)
}

export function isPlainObject (value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value)
}

export function boundedInteger (value: unknown, field: string, min: number, max: number, fallback: number): number {
  if (value === undefined) return fallback
  if (typeof value !== 'number' || !Number.isInteger(value) || value < min || value > max) {
    fail(field, `${field} must be an integer in ${min}..${max}, got ${typeof value === 'number' ? String(value) : describeValue(value)}`)
  }
  return value
}

/**
 * Parse an http(s) URL field. `credentialsHint` says where credentials go instead: URLs end up in
 * logs and listings.
 */
export function validateHttpUrl (value: unknown, field = 'sink.url', credentialsHint = 'put them in sink.headers'): URL {
  if (typeof value !== 'string' || value.length === 0 || value.length > MAX_WEBHOOK_URL_LENGTH) {
    fail(field, `${field} must be a non-empty string of at most ${MAX_WEBHOOK_URL_LENGTH} characters, got ${describeValue(value)}`)
  }
  let url: URL
  try {
    url = new URL(value)
  } catch {
    return fail(field, `${field} ${describeValue(value)} is not a URL`)
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:') fail(field, `${field} must be http or https, got ${describeValue(url.protocol)}`)
  if (url.username !== '' || url.password !== '') fail(field, `${field} must not carry credentials; ${credentialsHint}`)
  return url
}

/** The retry budget and timeout of a delivering sink, defaults filled in. */
export function validateDeliveryLimits (value: Record<string, unknown>): { maxAttempts: number, maxAgeSeconds: number, timeoutMs: number } {
  return {
    maxAttempts: boundedInteger(value.maxAttempts, 'sink.maxAttempts', MIN_MAX_ATTEMPTS, MAX_MAX_ATTEMPTS, DEFAULT_MAX_ATTEMPTS),
    maxAgeSeconds: boundedInteger(value.maxAgeSeconds, 'sink.maxAgeSeconds', MIN_MAX_AGE_SECONDS, MAX_MAX_AGE_SECONDS, DEFAULT_MAX_AGE_SECONDS),
    timeoutMs: boundedInteger(value.timeoutMs, 'sink.timeoutMs', MIN_TIMEOUT_MS, MAX_TIMEOUT_MS, DEFAULT_TIMEOUT_MS)
  }
}

function validateHeaders (value: unknown): Record<string, string> {
  if (!isPlainObject(value)) fail('sink.headers', `sink.headers must be an object of header name to string value, got ${describeValue(value)}`)
  const entries = Object.entries(value)
  if (entries.length > MAX_WEBHOOK_HEADERS) fail('sink.headers', `sink.headers may hold at most ${MAX_WEBHOOK_HEADERS} headers`)
  const headers: Record<string, string> = {}
  const seen = new Set<string>()
  for (const [name, headerValue] of entries) {
    const field = `sink.headers.${name}`
    const lower = name.toLowerCase()
    if (!HEADER_NAME.test(name)) fail(field, `sink.headers: ${describeValue(name)} is not a valid header name`)
    if (isReservedHeader(name)) fail(field, `sink.headers: ${name} is set by delivery itself or reserved, and cannot be configured`)
    if (seen.has(lower)) fail(field, `sink.headers: ${name} is given twice (header names are case-insensitive)`)
    seen.add(lower)
    if (typeof headerValue !== 'string' || headerValue.length > MAX_HEADER_VALUE_LENGTH || !HEADER_VALUE.test(headerValue)) {
      fail(field, `${field} must be a string of printable ASCII of at most ${MAX_HEADER_VALUE_LENGTH} characters`)
    }
    headers[name] = headerValue
  }
  return headers
}

/**
 * Validate a webhook sink and fill in its defaults (mode, maxAttempts, maxAgeSeconds,
 * timeoutMs); the URL comes back canonical. Throws InvalidSubscriptionError naming the field
 * (`sink.maxAgeSeconds`, `sink.headers.X-Cdgossip-Trace`).
 */
export function validateWebhookSink (value: unknown): CheckedWebhookSink {
  if (!isPlainObject(value)) fail('sink', `sink must be an object, got ${describeValue(value)}`)
  if (value.type !== 'webhook') fail('sink.type', `sink.type must be webhook, got ${describeValue(value.type)}`)
  for (const key of Object.keys(value)) {
    if (!WEBHOOK_FIELDS.has(key)) fail(`sink.${key}`, `unknown field sink.${key}`)
  }
  const mode = value.mode ?? DEFAULT_WEBHOOK_MODE
  if (mode !== 'binary' && mode !== 'structured') fail('sink.mode', `sink.mode must be binary or structured, got ${describeValue(mode)}`)
  const sink: CheckedWebhookSink = {
    type: 'webhook',
    url: validateHttpUrl(value.url).href,
    mode,
    ...validateDeliveryLimits(value)
  }
  if (value.headers !== undefined) sink.headers = validateHeaders(value.headers)
  return sink
}
