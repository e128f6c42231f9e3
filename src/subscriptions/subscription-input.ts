import { peerIdFromString } from '@libp2p/peer-id'
import { MAX_CLASS_PATTERN_LENGTH, MAX_PEER_ID_LENGTH, TRUST_NAME_REGEX, isValidClassPattern } from '../trust/index.js'
import { classPatternProblem, isDateTime, RFC3339_DATE_TIME_PATTERN } from '../events/index.js'
import { InvalidSubscriptionError } from './errors.js'
import type { Subscription, SubscriptionFilter, SubscriptionSink, SubscriptionStart, TriggerSink, WebhookSink } from './types.js'
import { describeValue as describe, isPlainObject, validateWebhookSink } from './webhook-sink.js'
import { isTriggerSinkType, sinkSchema, TRIGGER_SINK_TYPES, validateTriggerSink } from './trigger-sinks.js'

export const SUBSCRIPTION_ID_REGEX = '^[a-z0-9][a-z0-9-]{0,63}$'
const SUBSCRIPTION_ID = new RegExp(SUBSCRIPTION_ID_REGEX)

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
/** A subscription as validated from input, before the registry gives it an id, time and origin. */
export type NormalisedSubscriptionInput = Omit<Subscription, 'id' | 'createdAt' | 'origin'> & { id?: string }

const INPUT_FIELDS = new Set(['id', 'classes', 'filter', 'includeUntrusted', 'start', 'sink'])
const FILTER_FIELDS = new Set(['origins', 'sourcePrefix', 'subject', 'outcome'])

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
        time: { type: 'string', pattern: RFC3339_DATE_TIME_PATTERN }
      },
      // if/then rather than oneOf: Ajv's removeAdditional (Fastify's default) strips fields inside oneOf branches
      allOf: [
        { if: { properties: { kind: { const: 'cursor' } } }, then: { properties: { cursor: true }, required: ['cursor'], maxProperties: 2 } },
        { if: { properties: { kind: { const: 'time' } } }, then: { properties: { time: true }, required: ['time'], maxProperties: 2 } },
        { if: { properties: { kind: { enum: ['now', 'beginning'] } } }, then: { maxProperties: 1 } }
      ],
      description: 'where to start: now (default), beginning, after a cursor, or from a time'
    },
    sink: sinkSchema
  }
} as const

function fail (field: string, message: string): never {
  throw new InvalidSubscriptionError(field, message)
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

function validateSink (value: unknown): SubscriptionSink {
  if (value === undefined) return { type: 'store' }
  if (!isPlainObject(value)) fail('sink', `sink must be an object, got ${describe(value)}`)
  if (value.type === 'store') {
    rejectUnknownFields(value, new Set(['type']), 'sink.')
    return { type: 'store' }
  }
  if (isTriggerSinkType(value.type)) return validateTriggerSink(value)
  if (value.type !== 'webhook') fail('sink.type', `sink.type must be one of store, webhook, ${TRIGGER_SINK_TYPES.join(', ')}, got ${describe(value.type)}`)
  return validateWebhookSink(value)
}

/**
 * Validate and normalise a subscription from outside (API body, config file): unknown fields are
 * refused, defaults filled (filter {}, includeUntrusted false, start now, sink store, webhook
 * mode/maxAttempts/maxAgeSeconds/timeoutMs, trigger sinks' tool URLs), duplicate classes and origins dropped, peer IDs and
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
 * its subscriptions, so a corrupted or hand-edited state record is refused like any other input,
 * with one exception: a webhook or trigger sink that keeps its shape but breaks a rule added since it was
 * stored (a header that is now reserved, say) is kept as it was. The node then still starts, the
 * subscription can be listed and deleted, and delivery, which checks every sink with the same
 * validateWebhookSink, reports it `invalid` with the reason instead of sending anything.
 */
export function validateStoredSubscription (input: unknown): Subscription {
  if (!isPlainObject(input)) fail('subscription', `a subscription must be an object, got ${describe(input)}`)
  const { id, createdAt, origin, ...rest } = input
  if (!isSubscriptionId(id)) fail('id', `id must match ${SUBSCRIPTION_ID_REGEX}, got ${describe(id)}`)
  if (!isDateTime(createdAt)) fail('createdAt', `createdAt must be an RFC 3339 date-time, got ${describe(createdAt)}`)
  if (origin !== 'config' && origin !== 'api') fail('origin', `origin must be config or api, got ${describe(origin)}`)
  let sink: SubscriptionSink
  try {
    sink = validateSink(rest.sink)
  } catch (err) {
    if (!(err instanceof InvalidSubscriptionError) || !(hasWebhookSinkShape(rest.sink) || hasTriggerSinkShape(rest.sink))) throw err
    sink = rest.sink
  }
  const { sink: _checked, ...normalised } = validateSubscriptionInput({ ...rest, sink: { type: 'store' } })
  return { id, ...normalised, sink, createdAt, origin }
}

/** The shape (not the rules) of a webhook sink as the node persists it: every limit filled in. */
function hasWebhookSinkShape (value: unknown): value is WebhookSink {
  if (!isPlainObject(value) || value.type !== 'webhook' || typeof value.url !== 'string') return false
  if (value.mode !== 'binary' && value.mode !== 'structured') return false
  if (!['maxAttempts', 'maxAgeSeconds', 'timeoutMs'].every(field => Number.isSafeInteger(value[field]))) return false
  return value.headers === undefined || (isPlainObject(value.headers) && Object.values(value.headers).every(v => typeof v === 'string'))
}

/** The shape (not the rules) of a trigger sink as the node persists it: limits filled in, every other field a string. */
function hasTriggerSinkShape (value: unknown): value is TriggerSink {
  if (!isPlainObject(value) || !isTriggerSinkType(value.type)) return false
  const limits = ['maxAttempts', 'maxAgeSeconds', 'timeoutMs']
  if (!limits.every(field => Number.isSafeInteger(value[field]))) return false
  return Object.entries(value).every(([key, field]) => limits.includes(key) || typeof field === 'string')
}
