import type { EventClass } from '../events/types.js'

/*
 * Event-class patterns as trust entries and subscriptions use them:
 *   `*`                        every class
 *   `artifact.*`               every predicate of a standard subject
 *   `x.mytool-resource.*`      every predicate of a custom (tool, subject)
 *   `pipelinerun.finished`     exactly one class
 *
 * Interim home: events/ owns the vocabulary and is expected to export the same checks
 * (`classMatchesPattern`, `isEventClass`); when it does, this file goes and callers import from there.
 */

/** `<subject>.<predicate>`; `x` is reserved for custom classes, so it is not a standard subject. */
const STANDARD_CLASS = /^(?!x\.)[a-z]+\.[a-z]+$/
/** `x.<tool>-<subject>.<predicate>`, the character sets of the CDEvents custom-type pattern. */
const CUSTOM_CLASS = /^x\.[a-zA-Z0-9]+-[a-zA-Z]+\.[a-zA-Z]+$/
const STANDARD_SUBJECT_WILDCARD = /^(?!x\.)[a-z]+\.\*$/
const CUSTOM_SUBJECT_WILDCARD = /^x\.[a-zA-Z0-9]+-[a-zA-Z]+\.\*$/

/** Longest class or pattern accepted; real ones are under 40 characters. */
export const MAX_CLASS_PATTERN_LENGTH = 128

/**
 * One regular expression for a valid class pattern, for JSON Schemas (api/, config) so a schema
 * and `isClassPattern` cannot disagree.
 */
export const CLASS_PATTERN_REGEX = '^(\\*|(?!x\\.)[a-z]+\\.(\\*|[a-z]+)|x\\.[a-zA-Z0-9]+-[a-zA-Z]+\\.(\\*|[a-zA-Z]+))$'

export function isEventClass (value: unknown): value is EventClass {
  return typeof value === 'string' &&
    value.length <= MAX_CLASS_PATTERN_LENGTH &&
    (STANDARD_CLASS.test(value) || CUSTOM_CLASS.test(value))
}

export function isClassPattern (value: unknown): value is string {
  return typeof value === 'string' &&
    value.length <= MAX_CLASS_PATTERN_LENGTH &&
    (value === '*' || isEventClass(value) || STANDARD_SUBJECT_WILDCARD.test(value) || CUSTOM_SUBJECT_WILDCARD.test(value))
}

/** The `subject.` part a `subject.*` pattern stands for, including the trailing dot. */
function subjectPrefixOf (eventClass: string): string {
  return eventClass.slice(0, eventClass.lastIndexOf('.') + 1)
}

export function classMatchesPattern (pattern: string, eventClass: EventClass): boolean {
  if (pattern === '*') return true
  if (pattern.endsWith('.*')) return subjectPrefixOf(eventClass) === pattern.slice(0, -1)
  return pattern === eventClass
}

/** A set of patterns compiled for O(1) membership tests on the receive path. */
export type ClassMatcher = (eventClass: EventClass) => boolean

export function compileClassPatterns (patterns: readonly string[]): ClassMatcher {
  if (patterns.includes('*')) return () => true
  const exact = new Set<string>()
  const subjectPrefixes = new Set<string>()
  for (const pattern of patterns) {
    if (pattern.endsWith('.*')) subjectPrefixes.add(pattern.slice(0, -1))
    else exact.add(pattern)
  }
  return (eventClass) => exact.has(eventClass) || subjectPrefixes.has(subjectPrefixOf(eventClass))
}
