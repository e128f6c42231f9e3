import { Ajv2020 } from 'ajv/dist/2020.js'
import addFormatsModule from 'ajv-formats'
import { InvalidEventError, UnsupportedSpecVersionError } from './errors.js'
import { eventTypeSpecOf, parseEventType, standardTypeOf } from './event-type.js'
import { buildSchemaFiles, schemaIdFor } from './schemas.js'
import { CDEVENTS_SPEC_VERSION } from './vocabulary.js'
import type { ErrorObject, ValidateFunction } from 'ajv'
import type { Violation } from './errors.js'
import type { CDEvent, ParsedEventType } from './types.js'

// ajv-formats is CommonJS with `exports.default`; under NodeNext the default import is module.exports.
const addFormats = addFormatsModule.default

/**
 * Ajv keeps collecting errors (allErrors) so a producer learns every problem at once, but an event
 * with thousands of bad link items must not turn into a thousand-entry error body or log line.
 */
export const MAX_REPORTED_VIOLATIONS = 100

/** A violation path longer than this (unknown keys are attacker-chosen) is cut. */
const MAX_PATH_LENGTH = 512

/**
 * Spec versions: the official 0.5.1 schemas only require `context.specversion` to be a non-empty
 * string. cdgossip is stricter, because every node of a network must reach the same verdict and
 * the vocabulary it validates against is 0.5.x's:
 * - `0.5.<patch>` is accepted (patch releases do not change event schemas);
 * - any other well-formed version (`0.4.1`, `0.3.0`, `0.6.0`, `1.0.0`, pre-releases) is refused
 *   with UnsupportedSpecVersionError, as is any 0.4-era envelope (`context.version`, or a
 *   `subject.type` the type does not declare);
 * - a string that is no version at all (`banana`) is a schema violation (InvalidEventError) at
 *   `/context/specversion`.
 * The differential test against the official schemas therefore mutates specversion only within
 * what both sides agree on (wrong JSON type, empty, missing, other 0.5 patches).
 */
const ACCEPTED_SPEC_VERSION_RE = /^0\.5\.(0|[1-9][0-9]*)$/
const SPEC_VERSION_RE = /^(0|[1-9][0-9]*)\.(0|[1-9][0-9]*)\.(0|[1-9][0-9]*)(-[0-9A-Za-z.-]+)?(\+[0-9A-Za-z.-]+)?$/
const EXPECTED = `CDEvents 0.5.x is expected (context.specversion "${CDEVENTS_SPEC_VERSION}")`

export interface ValidatedCDEvent {
  /** the validated value itself (not a copy) */
  cdevent: CDEvent
  parsedType: ParsedEventType
}

interface Registry {
  ajv: Ajv2020
  validators: Map<string, ValidateFunction>
}

let registry: Registry | undefined

/** One Ajv instance for the process, with every generated schema registered (not yet compiled). */
function getRegistry (): Registry {
  if (registry === undefined) {
    const ajv = new Ajv2020({ allErrors: true, strict: true })
    addFormats(ajv)
    for (const file of buildSchemaFiles()) ajv.addSchema(file.schema)
    registry = { ajv, validators: new Map() }
  }
  return registry
}

/** Each type's validator is compiled on first use, then reused. */
function validatorFor (parsed: ParsedEventType): ValidateFunction {
  const { ajv, validators } = getRegistry()
  const id = schemaIdFor(parsed)
  let validate = validators.get(id)
  if (validate === undefined) {
    validate = ajv.getSchema(id)
    if (validate === undefined) throw new Error(`no schema registered for ${id}`)
    validators.set(id, validate)
  }
  return validate
}

/** Compiles every validator now, e.g. at node start, so the first event of each type is not slower. */
export function warmUpValidators (): void {
  const { ajv, validators } = getRegistry()
  for (const file of buildSchemaFiles()) {
    const id = file.schema.$id as string
    if (validators.has(id) || file.path.startsWith('links/')) continue
    const validate = ajv.getSchema(id)
    if (validate === undefined) throw new Error(`no schema registered for ${id}`)
    validators.set(id, validate)
  }
}

function isPlainObject (value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value)
}

function clip (s: string, max = 64): string {
  return s.length > max ? `${s.slice(0, max)}…` : s
}

function escapePointer (key: string): string {
  return key.replace(/~/g, '~0').replace(/\//g, '~1')
}

/** Refuses envelopes of other CDEvents versions before the schema is consulted. */
function refuseOtherSpecVersions (event: Record<string, unknown>, parsed: ParsedEventType | undefined): void {
  const context = event.context
  if (isPlainObject(context)) {
    if (Object.hasOwn(context, 'version')) {
      throw new UnsupportedSpecVersionError(
        `context.version belongs to the CDEvents 0.4.x (or older) envelope; ${EXPECTED}`,
        { path: '/context/version', expected: CDEVENTS_SPEC_VERSION })
    }
    const specversion = context.specversion
    if (typeof specversion === 'string' && SPEC_VERSION_RE.test(specversion) && !ACCEPTED_SPEC_VERSION_RE.test(specversion)) {
      throw new UnsupportedSpecVersionError(
        `CDEvents specversion ${JSON.stringify(clip(specversion))} is not supported; ${EXPECTED}`,
        { path: '/context/specversion', found: clip(specversion), expected: CDEVENTS_SPEC_VERSION })
    }
  }
  const subject = event.subject
  // 0.4.x subjects carried a `type`; in 0.5.1 only ticket.closed still declares one.
  if (isPlainObject(subject) && Object.hasOwn(subject, 'type')) {
    const declared = parsed !== undefined && eventTypeSpecOf(parsed.eventClass)?.spec.subjectExtras?.type !== undefined
    if (!declared) {
      throw new UnsupportedSpecVersionError(
        `subject.type belongs to the CDEvents 0.4.x (or older) envelope; ${EXPECTED}`,
        { path: '/subject/type', expected: CDEVENTS_SPEC_VERSION })
    }
  }
}

const FORMAT_HINTS: Record<string, string> = {
  'date-time': 'must be an RFC 3339 date-time with a time zone, e.g. 2024-05-01T12:00:00Z',
  uri: 'must be an absolute URI, e.g. https://example.com/x',
  'uri-reference': 'must be a URI reference, e.g. /ci/jobs/42 or https://example.com/x'
}

function toViolation (e: ErrorObject): Violation {
  const at = e.instancePath
  const params = e.params as Record<string, unknown>
  switch (e.keyword) {
    case 'required':
      return { path: `${at}/${escapePointer(String(params.missingProperty))}`, message: 'is required' }
    case 'additionalProperties':
      return { path: `${at}/${escapePointer(String(params.additionalProperty))}`, message: 'is not allowed here (unknown property)' }
    case 'type':
      return { path: at, message: `must be of type ${String(params.type)}` }
    case 'enum':
      return { path: at, message: `must be one of ${(params.allowedValues as unknown[]).map(v => JSON.stringify(v)).join(', ')}` }
    case 'const':
      return { path: at, message: `must be ${JSON.stringify(params.allowedValue)}` }
    case 'format':
      return { path: at, message: FORMAT_HINTS[String(params.format)] ?? `must match format ${String(params.format)}` }
    case 'minLength':
      return { path: at, message: params.limit === 1 ? 'must not be empty' : `must be at least ${String(params.limit)} characters long` }
    case 'pattern':
      return { path: at, message: `must match ${String(params.pattern)}` }
    default:
      return { path: at, message: e.message ?? `violates ${e.keyword}` }
  }
}

/**
 * Turns Ajv's errors into violations. A failed oneOf/anyOf reports one violation instead of the
 * failures of each option, and `if` bookkeeping errors are dropped (the `then` failures say it).
 */
function toViolations (errors: readonly ErrorObject[]): Violation[] {
  const combinators = errors.filter(e => e.keyword === 'oneOf' || e.keyword === 'anyOf')
  const underCombinator = (e: ErrorObject): ErrorObject | undefined => combinators.find(c =>
    c !== e && e.schemaPath.startsWith(`${c.schemaPath}/`) && e.instancePath.startsWith(c.instancePath))
  const out: Violation[] = []
  const seen = new Set<string>()
  for (const e of errors) {
    if (e.keyword === 'if' || underCombinator(e) !== undefined) continue
    let v: Violation
    if (combinators.includes(e)) {
      const types = errors.filter(b => b.keyword === 'type' && underCombinator(b) === e).map(b => String((b.params as { type: unknown }).type))
      v = { path: e.instancePath, message: types.length > 0 ? `must be of type ${types.join(' or ')}` : 'must match exactly one of the allowed shapes' }
    } else {
      v = toViolation(e)
    }
    if (v.path.length > MAX_PATH_LENGTH) v.path = `${v.path.slice(0, MAX_PATH_LENGTH)}…`
    const key = `${v.path}\n${v.message}`
    if (seen.has(key)) continue
    seen.add(key)
    out.push(v)
    if (out.length >= MAX_REPORTED_VIOLATIONS) break
  }
  return out
}

function invalid (what: string, violations: Violation[]): InvalidEventError {
  const [first] = violations
  const summary = first === undefined ? '' : `: ${first.path === '' ? '(root)' : first.path} ${first.message}`
  const more = violations.length > 1 ? ` (and ${violations.length - 1} more)` : ''
  return new InvalidEventError(`invalid ${what}${summary}${more}`, violations)
}

function typeViolation (event: Record<string, unknown>): Violation {
  const context = event.context
  if (context === undefined) return { path: '/context', message: 'is required' }
  if (!isPlainObject(context)) return { path: '/context', message: 'must be of type object' }
  const type = context.type
  if (type === undefined) return { path: '/context/type', message: 'is required' }
  if (typeof type !== 'string') return { path: '/context/type', message: 'must be of type string' }
  const sameClass = /^dev\.cdevents\.([a-z]+\.[a-z]+)\.[^.]+\.[^.]+\.[^.]+$/.exec(type.slice(0, 128))
  const known = sameClass === null ? undefined : standardTypeOf(sameClass[1] as string)
  if (known !== undefined) {
    return { path: '/context/type', message: `${JSON.stringify(clip(type))} is not a CDEvents ${CDEVENTS_SPEC_VERSION} type: ${CDEVENTS_SPEC_VERSION} has ${known}` }
  }
  return {
    path: '/context/type',
    message: `${JSON.stringify(clip(type))} is not a CDEvents ${CDEVENTS_SPEC_VERSION} type ` +
      '(dev.cdevents.<subject>.<predicate>.<version> as listed by the spec, or dev.cdeventsx.<tool>-<subject>.<predicate>.<M.m.p>)'
  }
}

/**
 * Checks an untrusted value (parsed JSON) against the CDEvents 0.5.1 schema of its `context.type`.
 * Throws UnsupportedSpecVersionError for envelopes of other spec versions (see the policy above)
 * and InvalidEventError listing the violations otherwise.
 */
export function validateCDEvent (value: unknown): ValidatedCDEvent {
  if (!isPlainObject(value)) throw invalid('CDEvent', [{ path: '', message: 'must be a JSON object' }])
  const context = value.context
  const type = isPlainObject(context) ? context.type : undefined
  const parsedType = typeof type === 'string' ? parseEventType(type) : undefined
  refuseOtherSpecVersions(value, parsedType)
  if (parsedType === undefined) throw invalid('CDEvent', [typeViolation(value)])

  const validate = validatorFor(parsedType)
  const violations = validate(value) ? [] : toViolations(validate.errors ?? [])
  const specversion = (context as Record<string, unknown>).specversion
  if (typeof specversion === 'string' && specversion.length > 0 && !SPEC_VERSION_RE.test(specversion) &&
    violations.length < MAX_REPORTED_VIOLATIONS) {
    violations.push({ path: '/context/specversion', message: `must be a CDEvents 0.5.x version such as "${CDEVENTS_SPEC_VERSION}"` })
  }
  if (violations.length > 0) throw invalid(`CDEvent ${parsedType.eventClass}`, violations)
  return { cdevent: value as unknown as CDEvent, parsedType }
}
