import { peerIdFromString } from '@libp2p/peer-id'
import { classPatternProblem } from '../events/index.js'
import { MAX_CLASS_PATTERN_LENGTH, MAX_PEER_ID_LENGTH, TRUST_NAME_REGEX, isValidClassPattern } from '../trust/index.js'
import { InvalidSubscriptionError } from './errors.js'
import type { Subscription, SubscriptionFilter, SubscriptionSink, SubscriptionStart, WebhookSink } from './types.js'

export const SUBSCRIPTION_ID_REGEX = '^[a-z0-9][a-z0-9-]{0,63}$'
const SUBSCRIPTION_ID = new RegExp(SUBSCRIPTION_ID_REGEX)

/** RFC 3339 date-time (the ISO 8601 profile CloudEvents and CDEvents use). */
export const DATE_TIME_REGEX = '^\\d{4}-\\d{2}-\\d{2}[Tt]\\d{2}:\\d{2}:\\d{2}(\\.\\d{1,9})?([Zz]|[+-]\\d{2}:\\d{2})$'
const DATE_TIME = new RegExp(DATE_TIME_REGEX)

/** RFC 9110 token: the characters a header field name may use. */
export const HEADER_NAME_REGEX = "^[!#$%&'*+.^_`|~0-9A-Za-z-]{1,64}$"
const HEADER_NAME = new RegExp(HEADER_NAME_REGEX)
/** Printable ASCII and tab: no CR/LF (header injection), no bytes Node's HTTP client refuses. */
export const HEADER_VALUE_REGEX = '^[\\t\\x20-\\x7e]*$'
const HEADER_VALUE = new RegExp(HEADER_VALUE_REGEX)

/** Shape shared by trust names and peer IDs (base58 or base32 CID); the code tells them apart. */
const ORIGIN_REGEX = '^[A-Za-z0-9][A-Za-z0-9._-]*$'
const ORIGIN = new RegExp(ORIGIN_REGEX)

/** One subscription names a handful of classes; 128 covers every standard class plus custom ones. */
export const MAX_SUBSCRIPTION_CLASSES = 128
/** Origin filters name communities; more than this is a trust policy, not a filter. */
export const MAX_FILTER_ORIGINS = 64
/** Sources and subject ids are URI-references in practice far below this. */
export const MAX_FILTER_STRING_LENGTH = 1024
/** Outcomes are short words (`success`, `failure`, `error`). */
export const MAX_OUTCOME_LENGTH = 64
/** Store cursors are short opaque strings; the bound stops absurd input. */
export const MAX_CURSOR_LENGTH = 256
export const MAX_WEBHOOK_URL_LENGTH = 2048
/** Enough for auth and routing headers; a receiver needing more is misconfigured. */
export const MAX_WEBHOOK_HEADERS = 32
export const MAX_HEADER_VALUE_LENGTH = 4096

/** @default 'binary': CloudEvents HTTP binary mode keeps the signed data bytes as the body */
export const DEFAULT_WEBHOOK_MODE = 'binary'
/** @default 10 */
export const DEFAULT_MAX_ATTEMPTS = 10
export const MIN_MAX_ATTEMPTS = 1
export const MAX_MAX_ATTEMPTS = 100
/** @default 86400 (one day) */
export const DEFAULT_MAX_AGE_SECONDS = 86_400
export const MIN_MAX_AGE_SECONDS = 1
/** 30 days: pending deliveries are kept in the store, so the age bounds its growth. */
export const MAX_MAX_AGE_SECONDS = 2_592_000
/** @default 10000 */
export const DEFAULT_TIMEOUT_MS = 10_000
export const MIN_TIMEOUT_MS = 100
export const MAX_TIMEOUT_MS = 120_000

/**
 * Headers delivery sets itself (CloudEvents attributes, framing) or that would let a subscription
 * redirect or smuggle the request. Compared lowercase.
 */
const RESERVED_HEADERS = new Set([
  'host', 'content-length', 'content-type', 'transfer-encoding', 'connection', 'keep-alive',
  'upgrade', 'te', 'trailer', 'expect', 'forwarded'
])
const RESERVED_HEADER_PREFIXES = ['ce-', 'proxy-', 'sec-']

/** A subscription as validated from input, before the registry gives it an id, time and origin. */
export type NormalisedSubscriptionInput = Omit<Subscription, 'id' | 'createdAt' | 'origin'> & { id?: string }

const INPUT_FIELDS = new Set(['id', 'classes', 'filter', 'includeUntrusted', 'start', 'sink'])
const FILTER_FIELDS = new Set(['origins', 'sourcePrefix', 'subject', 'outcome'])
const WEBHOOK_FIELDS = new Set(['type', 'url', 'mode', 'headers', 'maxAttempts', 'maxAgeSeconds', 'timeoutMs'])

/**
 * JSON Schema (draft 2020-12 / draft-07 compatible, no `format`, no `default`) of a subscription as
 * the API and config file accept it. Defaults are left to `validateSubscriptionInput`: Ajv's
 * useDefaults would write `mode` into a `store` sink and break it. It checks shape only; run
 * `validateSubscriptionInput` as well (URL parsing, header names, peer IDs, real dates).
 */
export const subscriptionInputSchema = {
  type: 'object',
  additionalProperties: false,
  required: ['classes'],
  properties: {
    id: {
      type: 'string',
      pattern: SUBSCRIPTION_ID_REGEX,
      description: 'optional; generated when absent'
    },
    classes: {
      type: 'array',
      minItems: 1,
      maxItems: MAX_SUBSCRIPTION_CLASSES,
      // no `pattern` here: validateSubscriptionInput refuses a bad one with the nearest subject or
      // class, which Ajv's "must match pattern <a page of regex>" cannot
      items: { type: 'string', minLength: 1, maxLength: MAX_CLASS_PATTERN_LENGTH },
      description: 'class patterns: `pipelinerun.finished`, `artifact.*`, `*`. Custom classes must be named exactly for the node to join their topics.'
    },
    filter: {
      type: 'object',
      additionalProperties: false,
      properties: {
        origins: {
          type: 'array',
          minItems: 1,
          maxItems: MAX_FILTER_ORIGINS,
          items: { type: 'string', minLength: 1, maxLength: MAX_PEER_ID_LENGTH, pattern: ORIGIN_REGEX },
          description: 'origin peer IDs or trust names (`self` for this node)'
        },
        sourcePrefix: { type: 'string', minLength: 1, maxLength: MAX_FILTER_STRING_LENGTH },
        subject: { type: 'string', minLength: 1, maxLength: MAX_FILTER_STRING_LENGTH },
        outcome: { type: 'string', minLength: 1, maxLength: MAX_OUTCOME_LENGTH }
      }
    },
    includeUntrusted: {
      type: 'boolean',
      description: 'also take events marked untrusted (open trust mode); default false'
    },
    start: {
      type: 'object',
      required: ['kind'],
      additionalProperties: false,
      properties: {
        kind: { enum: ['now', 'beginning', 'cursor', 'time'] },
        cursor: { type: 'string', minLength: 1, maxLength: MAX_CURSOR_LENGTH },
        time: { type: 'string', pattern: DATE_TIME_REGEX }
      },
      // if/then rather than oneOf: Ajv's removeAdditional (Fastify's default) strips fields inside oneOf branches
      allOf: [
        { if: { properties: { kind: { const: 'cursor' } } }, then: { properties: { cursor: true }, required: ['cursor'], maxProperties: 2 } },
        { if: { properties: { kind: { const: 'time' } } }, then: { properties: { time: true }, required: ['time'], maxProperties: 2 } },
        { if: { properties: { kind: { enum: ['now', 'beginning'] } } }, then: { maxProperties: 1 } }
      ],
      description: 'where to start: now (default), beginning, after a cursor, or from a time'
    },
    sink: {
      type: 'object',
      required: ['type'],
      additionalProperties: false,
      properties: {
        type: { enum: ['store', 'webhook'] },
        url: { type: 'string', maxLength: MAX_WEBHOOK_URL_LENGTH, pattern: '^[Hh][Tt][Tt][Pp][Ss]?://' },
        mode: { enum: ['binary', 'structured'], description: `default ${DEFAULT_WEBHOOK_MODE}` },
        headers: {
          type: 'object',
          maxProperties: MAX_WEBHOOK_HEADERS,
          propertyNames: { pattern: HEADER_NAME_REGEX },
          additionalProperties: { type: 'string', maxLength: MAX_HEADER_VALUE_LENGTH, pattern: HEADER_VALUE_REGEX }
        },
        maxAttempts: { type: 'integer', minimum: MIN_MAX_ATTEMPTS, maximum: MAX_MAX_ATTEMPTS, description: `default ${DEFAULT_MAX_ATTEMPTS}` },
        maxAgeSeconds: { type: 'integer', minimum: MIN_MAX_AGE_SECONDS, maximum: MAX_MAX_AGE_SECONDS, description: `default ${DEFAULT_MAX_AGE_SECONDS}` },
        timeoutMs: { type: 'integer', minimum: MIN_TIMEOUT_MS, maximum: MAX_TIMEOUT_MS, description: `default ${DEFAULT_TIMEOUT_MS}` }
      },
      allOf: [
        { if: { properties: { type: { const: 'webhook' } } }, then: { properties: { url: true }, required: ['url'] }, else: { maxProperties: 1 } }
      ],
      description: 'store (default): keep matching events in the store; webhook: also POST them as CloudEvents'
    }
  }
} as const

/** Why a value was refused, without echoing unbounded or control characters into messages. */
function describe (value: unknown): string {
  if (typeof value === 'string') return JSON.stringify(value.length > 80 ? `${value.slice(0, 80)}…` : value)
  if (value === null) return 'null'
  if (Array.isArray(value)) return 'an array'
  return `a ${typeof value}`
}

function fail (field: string, message: string): never {
  throw new InvalidSubscriptionError(field, message)
}

function isPlainObject (value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value)
}

function rejectUnknownFields (value: Record<string, unknown>, allowed: ReadonlySet<string>, prefix: string): void {
  for (const key of Object.keys(value)) {
    if (!allowed.has(key)) fail(`${prefix}${key}`, `unknown field ${prefix}${key}`)
  }
}

function boundedString (value: unknown, field: string, max: number): string {
  if (typeof value !== 'string' || value.length === 0 || value.length > max) {
    fail(field, `${field} must be a non-empty string of at most ${max} characters, got ${describe(value)}`)
  }
  return value
}

export function isSubscriptionId (value: unknown): value is string {
  return typeof value === 'string' && SUBSCRIPTION_ID.test(value)
}

/** RFC 3339 date-time that names a real instant (`2025-02-30T…` is refused). */
export function isDateTime (value: unknown): value is string {
  if (typeof value !== 'string' || !DATE_TIME.test(value)) return false
  const ms = Date.parse(value)
  if (Number.isNaN(ms)) return false
  // Date.parse rolls 02-30 over to 03-02; compare the calendar date it kept in the given offset
  const date = value.slice(0, 10)
  const offset = /([+-])(\d{2}):(\d{2})$/.exec(value)
  const offsetMs = offset === null ? 0 : (offset[1] === '-' ? -1 : 1) * (Number(offset[2]) * 60 + Number(offset[3])) * 60_000
  return new Date(ms + offsetMs).toISOString().slice(0, 10) === date
}

/** A subscription's class patterns, checked (a bad one named with the nearest subject or class) and deduplicated. */
export function validateClasses (value: unknown): string[] {
  if (!Array.isArray(value) || value.length === 0 || value.length > MAX_SUBSCRIPTION_CLASSES) {
    fail('classes', `classes must be a list of 1..${MAX_SUBSCRIPTION_CLASSES} class patterns, got ${describe(value)}`)
  }
  const classes: string[] = []
  value.forEach((pattern: unknown, i) => {
    if (!isValidClassPattern(pattern)) {
      const why = typeof pattern === 'string' ? classPatternProblem(pattern) : undefined
      fail(`classes[${i}]`, `classes[${i}]: ${why ?? `${describe(pattern)} is not a class pattern (*, <subject>.*, <subject>.<predicate>, x.<tool>-<subject>.<predicate>)`}`)
    }
    if (!classes.includes(pattern)) classes.push(pattern)
  })
  return classes
}

const TRUST_NAME = new RegExp(TRUST_NAME_REGEX)

/** A peer ID comes back in canonical base58; anything else must be a trust name. */
function normaliseOrigin (value: unknown, field: string): string {
  if (typeof value === 'string' && value.length <= MAX_PEER_ID_LENGTH && ORIGIN.test(value)) {
    try {
      return peerIdFromString(value).toString()
    } catch {
      if (TRUST_NAME.test(value)) return value
    }
  }
  return fail(field, `${field} must be a peer ID or a trust name, got ${describe(value)}`)
}

function validateFilter (value: unknown): SubscriptionFilter {
  if (value === undefined) return {}
  if (!isPlainObject(value)) fail('filter', `filter must be an object, got ${describe(value)}`)
  rejectUnknownFields(value, FILTER_FIELDS, 'filter.')
  const filter: SubscriptionFilter = {}
  if (value.origins !== undefined) {
    const origins = value.origins
    if (!Array.isArray(origins) || origins.length === 0 || origins.length > MAX_FILTER_ORIGINS) {
      fail('filter.origins', `filter.origins must be a list of 1..${MAX_FILTER_ORIGINS} peer IDs or trust names (leave it out to match every origin), got ${describe(origins)}`)
    }
    filter.origins = [...new Set(origins.map((origin: unknown, i) => normaliseOrigin(origin, `filter.origins[${i}]`)))]
  }
  if (value.sourcePrefix !== undefined) filter.sourcePrefix = boundedString(value.sourcePrefix, 'filter.sourcePrefix', MAX_FILTER_STRING_LENGTH)
  if (value.subject !== undefined) filter.subject = boundedString(value.subject, 'filter.subject', MAX_FILTER_STRING_LENGTH)
  if (value.outcome !== undefined) filter.outcome = boundedString(value.outcome, 'filter.outcome', MAX_OUTCOME_LENGTH)
  return filter
}

function validateStart (value: unknown): SubscriptionStart {
  if (value === undefined) return { kind: 'now' }
  if (!isPlainObject(value)) fail('start', `start must be an object, got ${describe(value)}`)
  switch (value.kind) {
    case 'now':
    case 'beginning':
      rejectUnknownFields(value, new Set(['kind']), 'start.')
      return { kind: value.kind }
    case 'cursor':
      rejectUnknownFields(value, new Set(['kind', 'cursor']), 'start.')
      return { kind: 'cursor', cursor: boundedString(value.cursor, 'start.cursor', MAX_CURSOR_LENGTH) }
    case 'time':
      rejectUnknownFields(value, new Set(['kind', 'time']), 'start.')
      if (!isDateTime(value.time)) fail('start.time', `start.time must be an RFC 3339 date-time such as 2025-01-31T12:00:00Z, got ${describe(value.time)}`)
      return { kind: 'time', time: value.time }
    default:
      return fail('start.kind', `start.kind must be one of now, beginning, cursor, time, got ${describe(value.kind)}`)
  }
}

function validateUrl (value: unknown): string {
  const raw = boundedString(value, 'sink.url', MAX_WEBHOOK_URL_LENGTH)
  let url: URL
  try {
    url = new URL(raw)
  } catch {
    return fail('sink.url', `sink.url ${describe(raw)} is not a URL`)
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:') fail('sink.url', `sink.url must be http or https, got ${describe(url.protocol)}`)
  // URLs end up in logs and listings; credentials belong in sink.headers
  if (url.username !== '' || url.password !== '') fail('sink.url', 'sink.url must not carry credentials; put them in sink.headers')
  return url.href
}

function validateHeaders (value: unknown): Record<string, string> {
  if (!isPlainObject(value)) fail('sink.headers', `sink.headers must be an object of header name to string value, got ${describe(value)}`)
  const entries = Object.entries(value)
  if (entries.length > MAX_WEBHOOK_HEADERS) fail('sink.headers', `sink.headers may hold at most ${MAX_WEBHOOK_HEADERS} headers`)
  const headers: Record<string, string> = {}
  const seen = new Set<string>()
  for (const [name, headerValue] of entries) {
    const field = `sink.headers.${name}`
    const lower = name.toLowerCase()
    if (!HEADER_NAME.test(name)) fail(field, `sink.headers: ${describe(name)} is not a valid header name`)
    if (RESERVED_HEADERS.has(lower) || RESERVED_HEADER_PREFIXES.some(prefix => lower.startsWith(prefix))) {
      fail(field, `sink.headers: ${name} is set by delivery itself and cannot be configured`)
    }
    if (seen.has(lower)) fail(field, `sink.headers: ${name} is given twice (header names are case-insensitive)`)
    seen.add(lower)
    if (typeof headerValue !== 'string' || headerValue.length > MAX_HEADER_VALUE_LENGTH || !HEADER_VALUE.test(headerValue)) {
      fail(field, `${field} must be a string of printable ASCII of at most ${MAX_HEADER_VALUE_LENGTH} characters`)
    }
    headers[name] = headerValue
  }
  return headers
}

function boundedInteger (value: unknown, field: string, min: number, max: number, fallback: number): number {
  if (value === undefined) return fallback
  if (typeof value !== 'number' || !Number.isInteger(value) || value < min || value > max) {
    fail(field, `${field} must be an integer in ${min}..${max}, got ${typeof value === 'number' ? String(value) : describe(value)}`)
  }
  return value
}

function validateSink (value: unknown): SubscriptionSink {
  if (value === undefined) return { type: 'store' }
  if (!isPlainObject(value)) fail('sink', `sink must be an object, got ${describe(value)}`)
  if (value.type === 'store') {
    rejectUnknownFields(value, new Set(['type']), 'sink.')
    return { type: 'store' }
  }
  if (value.type !== 'webhook') fail('sink.type', `sink.type must be store or webhook, got ${describe(value.type)}`)
  rejectUnknownFields(value, WEBHOOK_FIELDS, 'sink.')
  const mode = value.mode ?? DEFAULT_WEBHOOK_MODE
  if (mode !== 'binary' && mode !== 'structured') fail('sink.mode', `sink.mode must be binary or structured, got ${describe(mode)}`)
  const sink: WebhookSink = {
    type: 'webhook',
    url: validateUrl(value.url),
    mode,
    maxAttempts: boundedInteger(value.maxAttempts, 'sink.maxAttempts', MIN_MAX_ATTEMPTS, MAX_MAX_ATTEMPTS, DEFAULT_MAX_ATTEMPTS),
    maxAgeSeconds: boundedInteger(value.maxAgeSeconds, 'sink.maxAgeSeconds', MIN_MAX_AGE_SECONDS, MAX_MAX_AGE_SECONDS, DEFAULT_MAX_AGE_SECONDS),
    timeoutMs: boundedInteger(value.timeoutMs, 'sink.timeoutMs', MIN_TIMEOUT_MS, MAX_TIMEOUT_MS, DEFAULT_TIMEOUT_MS)
  }
  if (value.headers !== undefined) sink.headers = validateHeaders(value.headers)
  return sink
}

/**
 * Validate and normalise a subscription from outside (API body, config file): unknown fields are
 * refused, defaults filled (filter {}, includeUntrusted false, start now, sink store, webhook
 * mode/maxAttempts/maxAgeSeconds/timeoutMs), duplicate classes and origins dropped, peer IDs and
 * URLs canonicalised. Throws InvalidSubscriptionError naming the field.
 */
export function validateSubscriptionInput (input: unknown): NormalisedSubscriptionInput {
  if (!isPlainObject(input)) fail('subscription', `a subscription must be an object, got ${describe(input)}`)
  rejectUnknownFields(input, INPUT_FIELDS, '')
  if (input.id !== undefined && !isSubscriptionId(input.id)) {
    fail('id', `id must match ${SUBSCRIPTION_ID_REGEX}, got ${describe(input.id)}`)
  }
  const includeUntrusted = input.includeUntrusted ?? false
  if (typeof includeUntrusted !== 'boolean') fail('includeUntrusted', `includeUntrusted must be a boolean, got ${describe(includeUntrusted)}`)
  const normalised: NormalisedSubscriptionInput = {
    classes: validateClasses(input.classes),
    filter: validateFilter(input.filter),
    includeUntrusted,
    start: validateStart(input.start),
    sink: validateSink(input.sink)
  }
  if (input.id !== undefined) normalised.id = input.id
  return normalised
}

/**
 * Validate a subscription as persisted by the node (all fields present). Used when the node reloads
 * its subscriptions, so a corrupted or hand-edited state record is refused like any other input.
 */
export function validateStoredSubscription (input: unknown): Subscription {
  if (!isPlainObject(input)) fail('subscription', `a subscription must be an object, got ${describe(input)}`)
  const { id, createdAt, origin, ...rest } = input
  if (!isSubscriptionId(id)) fail('id', `id must match ${SUBSCRIPTION_ID_REGEX}, got ${describe(id)}`)
  if (!isDateTime(createdAt)) fail('createdAt', `createdAt must be an RFC 3339 date-time, got ${describe(createdAt)}`)
  if (origin !== 'config' && origin !== 'api') fail('origin', `origin must be config or api, got ${describe(origin)}`)
  const normalised = validateSubscriptionInput(rest)
  return { id, ...normalised, createdAt, origin }
}
