import { EVENT_TYPE_SPECS, STANDARD_EVENTS } from './vocabulary.js'
import type { EventClass, ParsedEventType } from './types.js'
import type { EventTypeSpec, StandardEventClass, StandardSubject } from './vocabulary.js'

/**
 * The longest `context.type` we bother to look at. Standard types are under 50 characters and the
 * custom pattern has no length limit, but a type is also a topic and index key, so anything this
 * long is refused before any regular expression runs.
 */
export const MAX_EVENT_TYPE_LENGTH = 256

/** All 45 standard event classes, sorted. */
export const STANDARD_EVENT_CLASSES: readonly StandardEventClass[] = Object.freeze(EVENT_TYPE_SPECS.map(s => s.eventClass))

/** The 14 standard subjects, sorted. */
export const STANDARD_SUBJECTS: readonly StandardSubject[] = Object.freeze(
  (Object.keys(STANDARD_EVENTS) as StandardSubject[]).sort()
)

const SPEC_BY_TYPE = new Map<string, EventTypeSpec>(EVENT_TYPE_SPECS.map(s => [s.type, s]))
const SPEC_BY_CLASS = new Map<string, EventTypeSpec>(EVENT_TYPE_SPECS.map(s => [s.eventClass, s]))
const SUBJECTS = new Set<string>(STANDARD_SUBJECTS)

const PARSED_STANDARD = new Map<string, ParsedEventType>(EVENT_TYPE_SPECS.map(s => [s.type, Object.freeze({
  kind: 'standard' as const,
  subject: s.subject,
  predicate: s.predicate,
  version: s.version,
  eventClass: s.eventClass
})]))

// Same language as CUSTOM_TYPE_PATTERN, with groups; checked against it in the tests.
const CUSTOM_TYPE_RE = /^dev\.cdeventsx\.([a-zA-Z0-9]+)-([a-zA-Z]+)\.([a-zA-Z]+)\.([0-9]\.[0-9]\.[0-9])$/
const CUSTOM_CLASS_RE = /^x\.([a-zA-Z0-9]+)-([a-zA-Z]+)\.([a-zA-Z]+)$/

/**
 * Parses a CDEvents `context.type`. Standard types are recognised only in their 0.5.1 version
 * (`dev.cdevents.pipelinerun.finished.0.3.0`; another version of the same class is unknown here),
 * custom types by the 0.5.1 custom pattern (`dev.cdeventsx.<tool>-<subject>.<predicate>.<M.m.p>`).
 * Anything else is `undefined`.
 */
export function parseEventType (type: string): ParsedEventType | undefined {
  if (typeof type !== 'string' || type.length > MAX_EVENT_TYPE_LENGTH) return undefined
  const standard = PARSED_STANDARD.get(type)
  if (standard !== undefined) return standard
  const m = CUSTOM_TYPE_RE.exec(type)
  if (m === null) return undefined
  const [, tool, subject, predicate, version] = m as unknown as [string, string, string, string, string]
  return Object.freeze({
    kind: 'custom' as const,
    subject,
    predicate,
    version,
    tool,
    eventClass: `x.${tool}-${subject}.${predicate}`
  })
}

/** The event class of a `context.type`, or `undefined` when the type is unknown. */
export function eventClassOf (type: string): EventClass | undefined {
  return parseEventType(type)?.eventClass
}

/** `pipelinerun.finished` (one of the 45) or `x.<tool>-<subject>.<predicate>` (custom). */
export function isEventClass (s: string): boolean {
  if (typeof s !== 'string' || s.length > MAX_EVENT_TYPE_LENGTH) return false
  return SPEC_BY_CLASS.has(s) || CUSTOM_CLASS_RE.test(s)
}

export function isStandardEventClass (s: string): s is StandardEventClass {
  return SPEC_BY_CLASS.has(s)
}

export function isStandardSubject (s: string): s is StandardSubject {
  return SUBJECTS.has(s)
}

/** The table row of a standard type (by `context.type`) or class; `undefined` for anything else. */
export function eventTypeSpecOf (typeOrClass: string): EventTypeSpec | undefined {
  return SPEC_BY_TYPE.get(typeOrClass) ?? SPEC_BY_CLASS.get(typeOrClass)
}

/** The `context.type` a standard class has in CDEvents 0.5.1. */
export function standardTypeOf (eventClass: string): string | undefined {
  return SPEC_BY_CLASS.get(eventClass)?.type
}
