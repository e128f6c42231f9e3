import jsonata from 'jsonata'
import { InvalidRequestError } from '../../errors.js'
import { isStandardEventClass } from '../../events/index.js'
import { cdevent, contentHash, header, jsonBody, matchesHmac } from '../common.js'
import { isRecord, matchesBearer, settingsObject, toRfc3339, validatedEvent } from './token-and-payload.js'
import type { HookDelivery, SourceKind, SourceSecrets, Translation } from '../types.js'

/**
 * Any other tool, by a declarative mapping in the source's settings: JSONata expressions
 * (https://jsonata.org) evaluated against `{ body, headers }` (the body parsed as JSON, the
 * headers with lower-case names, without `authorization` and the HMAC header: credentials never
 * reach an event) build the CDEvent.
 *
 * | setting         | required | what it gives                                                                 |
 * |-----------------|----------|-------------------------------------------------------------------------------|
 * | `type`          | yes      | a standard class (`pipelinerun.finished`, taken literally) or an expression giving one |
 * | `source`        | yes      | `context.source`: the tool's URL (a string literal is `"https://…"` in JSONata) |
 * | `timestamp`     | yes      | `context.timestamp`: an RFC 3339 string or epoch milliseconds from the payload |
 * | `subjectId`     | yes      | `subject.id`                                                                   |
 * | `id`            | no       | `context.id`; default: sha256 of the body (a redelivery repeats it)            |
 * | `subjectSource` | no       | `subject.source`                                                               |
 * | `chainId`       | no       | `context.chainId`                                                              |
 * | `content`       | no       | `{ field: expression }`: `subject.content`; a field whose expression gives nothing is left out |
 * | `customData`    | no       | `customData` (an object)                                                       |
 * | `when`          | no       | the delivery is ignored (202) unless it gives a truthy value                    |
 * | `auth`          | no       | `{ type: bearer }` (default: `Authorization: Bearer <secret>`) or `{ type: hmac, header, algorithm: sha1 or sha256, prefix? }`: hex HMAC of the raw body in that header, after the prefix (e.g. `sha256=`) |
 *
 * Every expression is compiled when the settings are loaded: a syntax error is refused naming the
 * field. Expressions may not use `$now()`, `$millis()` or `$random()`: a translation must give the
 * same event for the same delivery. Evaluation is bounded by JSONata's own guardrails: one
 * evaluation per delivery (all fields are evaluated as one object), stopped after
 * EVALUATION_TIMEOUT_MS, at a depth of MAX_EVALUATION_DEPTH and at sequences of
 * MAX_SEQUENCE_LENGTH items. The guardrails are checked between evaluation steps: a single
 * built-in call on one value (one regular expression match on one string, itself bounded by the
 * listener's body limit) cannot be interrupted.
 */

type Expression = ReturnType<typeof jsonata>

export type GenericAuth =
  | { type: 'bearer' }
  | { type: 'hmac', header: string, algorithm: 'sha1' | 'sha256', prefix: string }

export interface GenericSettings {
  /** the literal class, when `type` was one */
  readonly eventClass?: string
  readonly auth: GenericAuth
  /** whether a `when` expression filters deliveries */
  readonly filtered: boolean
  /** every mapping expression as one JSONata object, so one evaluation (one time budget) does all */
  readonly mapping: Expression
}

/** Longest expression accepted: mappings are a few lines; a bound keeps config mistakes visible. */
export const MAX_EXPRESSION_LENGTH = 4096
/** `content` fields: the largest 0.5.1 subject content has nine. */
export const MAX_CONTENT_FIELDS = 32
/** Wall-clock budget of one delivery's evaluation: a mapping is a few lookups, far below this. */
export const EVALUATION_TIMEOUT_MS = 250
/** JSONata evaluation depth: deep enough for any mapping, shallow enough to stop runaway recursion. */
export const MAX_EVALUATION_DEPTH = 500
/** Longest sequence an expression may build: stops `[1..100000000]`-style allocations. */
export const MAX_SEQUENCE_LENGTH = 10_000

const FIELDS = ['type', 'id', 'source', 'timestamp', 'subjectId', 'subjectSource', 'chainId', 'customData', 'when'] as const
const REQUIRED = ['type', 'source', 'timestamp', 'subjectId'] as const
/** Functions whose value changes between evaluations of the same delivery. */
const NON_DETERMINISTIC = new Set(['now', 'millis', 'random'])
const HEADER_NAME = /^[A-Za-z0-9!#$%&'*+.^_`|~-]+$/

function expressionText (field: string, value: unknown): string {
  if (typeof value !== 'string' || value.trim() === '') throw new InvalidRequestError(`generic settings: "${field}" must be a JSONata expression (a non-empty string)`)
  if (value.length > MAX_EXPRESSION_LENGTH) throw new InvalidRequestError(`generic settings: "${field}" is longer than ${MAX_EXPRESSION_LENGTH} characters`)
  return value
}

/** Compiles one expression alone, so an error names its field; refuses clock and random functions. */
function checkExpression (field: string, text: string): void {
  let expression: Expression
  try {
    expression = jsonata(text)
  } catch (err) {
    const e = err as { message?: string, position?: number }
    throw new InvalidRequestError(`generic settings: "${field}" is not a valid JSONata expression: ${e.message ?? String(err)}${e.position === undefined ? '' : ` (at ${e.position})`}`)
  }
  const used = nonDeterministicUse(expression.ast())
  if (used !== undefined) throw new InvalidRequestError(`generic settings: "${field}" uses $${used}(): a translation must give the same event for the same delivery`)
}

function nonDeterministicUse (node: unknown, depth = 0): string | undefined {
  if (depth > MAX_EVALUATION_DEPTH || node === null || typeof node !== 'object') return undefined
  if (Array.isArray(node)) {
    for (const item of node) {
      const found = nonDeterministicUse(item, depth + 1)
      if (found !== undefined) return found
    }
    return undefined
  }
  const n = node as Record<string, unknown>
  if (n.type === 'variable' && typeof n.value === 'string' && NON_DETERMINISTIC.has(n.value)) return n.value
  for (const value of Object.values(n)) {
    const found = nonDeterministicUse(value, depth + 1)
    if (found !== undefined) return found
  }
  return undefined
}

function parseAuth (value: unknown): GenericAuth {
  if (value === undefined) return { type: 'bearer' }
  if (!isRecord(value)) throw new InvalidRequestError('generic settings: "auth" must be an object')
  if (value.type === 'bearer') {
    settingsObject('generic auth', value, ['type'])
    return { type: 'bearer' }
  }
  if (value.type !== 'hmac') throw new InvalidRequestError('generic settings: "auth.type" must be "bearer" or "hmac"')
  settingsObject('generic auth', value, ['type', 'header', 'algorithm', 'prefix'])
  if (typeof value.header !== 'string' || !HEADER_NAME.test(value.header)) throw new InvalidRequestError('generic settings: "auth.header" must be a header name')
  if (value.algorithm !== 'sha1' && value.algorithm !== 'sha256') throw new InvalidRequestError('generic settings: "auth.algorithm" must be "sha1" or "sha256"')
  if (value.prefix !== undefined && typeof value.prefix !== 'string') throw new InvalidRequestError('generic settings: "auth.prefix" must be a string')
  return { type: 'hmac', header: value.header.toLowerCase(), algorithm: value.algorithm, prefix: value.prefix ?? '' }
}

/** Shadows the built-ins refused at load, in case one is reached some other way (e.g. `$lookup`). */
function refused (name: string): () => never {
  return () => { throw new InvalidRequestError(`generic: $${name}() is not allowed in a mapping`) }
}
const BINDINGS = { now: refused('now'), millis: refused('millis'), random: refused('random') }

function describeError (err: unknown): string {
  const e = err as { code?: string, message?: string }
  return `${e.code === undefined ? '' : `${e.code} `}${e.message ?? String(err)}`
}

function requireOutput (out: Record<string, unknown>, field: string): string {
  const value = out[field]
  if (typeof value === 'number' && Number.isFinite(value)) return String(value)
  if (typeof value !== 'string' || value === '') throw new InvalidRequestError(`generic: the "${field}" expression gave no string for this payload`)
  return value
}

export const generic: SourceKind<GenericSettings, Promise<Translation>> = {
  name: 'generic',
  parseSettings (input: unknown): GenericSettings {
    const raw = settingsObject('generic', input, [...FIELDS, 'content', 'auth'])
    for (const field of REQUIRED) if (raw[field] === undefined) throw new InvalidRequestError(`generic settings: "${field}" is required`)
    const parts: string[] = []
    let eventClass: string | undefined
    for (const field of FIELDS) {
      if (raw[field] === undefined) continue
      const text = expressionText(field, raw[field])
      if (field === 'type' && isStandardEventClass(text.trim())) {
        eventClass = text.trim()
        continue
      }
      checkExpression(field, text)
      parts.push(`${JSON.stringify(field)}: (${text}\n)`)
    }
    if (raw.content !== undefined) {
      if (!isRecord(raw.content)) throw new InvalidRequestError('generic settings: "content" must be an object of expressions')
      const entries = Object.entries(raw.content)
      if (entries.length > MAX_CONTENT_FIELDS) throw new InvalidRequestError(`generic settings: "content" has more than ${MAX_CONTENT_FIELDS} fields`)
      const content: string[] = []
      for (const [name, value] of entries) {
        const text = expressionText(`content.${name}`, value)
        checkExpression(`content.${name}`, text)
        content.push(`${JSON.stringify(name)}: (${text}\n)`)
      }
      parts.push(`"content": {${content.join(', ')}}`)
    }
    const mapping = jsonata(`{${parts.join(', ')}}`, { timeout: EVALUATION_TIMEOUT_MS, stack: MAX_EVALUATION_DEPTH, sequence: MAX_SEQUENCE_LENGTH })
    return { ...(eventClass === undefined ? {} : { eventClass }), auth: parseAuth(raw.auth), filtered: raw.when !== undefined, mapping }
  },
  authenticate (delivery: HookDelivery, secrets: SourceSecrets, settings: GenericSettings): boolean {
    if (settings.auth.type === 'bearer') return matchesBearer(delivery, secrets)
    const presented = header(delivery, settings.auth.header)
    const prefix = settings.auth.prefix
    if (presented === undefined || presented.slice(0, prefix.length).toLowerCase() !== prefix.toLowerCase()) return false
    return matchesHmac(settings.auth.algorithm, presented.slice(prefix.length), secrets, delivery.body)
  },
  async translate (delivery: HookDelivery, settings: GenericSettings): Promise<Translation> {
    const input = { body: jsonBody(delivery), headers: visibleHeaders(delivery, settings) }
    let result: unknown
    try {
      result = await settings.mapping.evaluate(input, BINDINGS)
    } catch (err) {
      if (err instanceof InvalidRequestError) throw err
      throw new InvalidRequestError(`generic: evaluating the mapping failed: ${describeError(err)}`)
    }
    // JSONata marks its sequences with extra properties: plain JSON from here on
    const out = (isRecord(result) ? JSON.parse(JSON.stringify(result)) : {}) as Record<string, unknown>
    // a `when` that gives nothing (a missing field) is false too
    if (settings.filtered && !truthy(out.when)) return { kind: 'ignored', reason: 'generic: the mapping\'s "when" is false for this delivery' }
    const eventClass = settings.eventClass ?? requireOutput(out, 'type')
    if (!isStandardEventClass(eventClass)) throw new InvalidRequestError(`generic: the "type" expression gave "${eventClass.slice(0, 64)}", not a CDEvents 0.5.1 class`)
    const timestamp = toRfc3339(out.timestamp, 'timestamp', 'generic')
    const content = out.content === undefined ? {} : out.content
    if (!isRecord(content)) throw new InvalidRequestError('generic: "content" did not give an object')
    if (out.customData !== undefined && !isRecord(out.customData)) throw new InvalidRequestError('generic: the "customData" expression gave no object')
    const event = cdevent({
      eventClass,
      id: out.id === undefined ? contentHash(delivery) : requireOutput(out, 'id'),
      source: requireOutput(out, 'source'),
      timestamp,
      subjectId: requireOutput(out, 'subjectId'),
      ...(out.subjectSource === undefined ? {} : { subjectSource: requireOutput(out, 'subjectSource') }),
      ...(out.chainId === undefined ? {} : { chainId: requireOutput(out, 'chainId') }),
      content,
      ...(out.customData === undefined ? {} : { customData: out.customData })
    })
    return { kind: 'events', events: [validatedEvent(event, 'generic')] }
  }
}

/**
 * The headers a mapping sees: all but the credential's, so no mapping can copy a secret (or a
 * token's hash) into an event that is signed and gossiped to every peer.
 */
function visibleHeaders (delivery: HookDelivery, settings: GenericSettings): Record<string, string | undefined> {
  const headers: Record<string, string | undefined> = { ...delivery.headers }
  delete headers.authorization
  if (settings.auth.type === 'hmac') delete headers[settings.auth.header]
  return headers
}

function truthy (value: unknown): boolean {
  return value !== false && value !== null && value !== undefined && value !== 0 && value !== ''
}
