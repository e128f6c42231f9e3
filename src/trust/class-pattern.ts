import { STANDARD_EVENT_CLASSES, STANDARD_SUBJECTS, isClassPattern } from '../events/index.js'
import type { EventClass } from '../events/index.js'

/*
 * What trust entries and subscriptions add on top of events/' class patterns (`*`, `artifact.*`,
 * `x.mytool-resource.*`, exact classes): a JSON Schema regex and a matcher compiled for the
 * receive hot path. Semantics stay events/' (`isClassPattern`, `classMatchesPattern`).
 */

/** Longest pattern the schemas accept; real ones are under 40 characters. */
export const MAX_CLASS_PATTERN_LENGTH = 128

const escape = (s: string): string => s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')

/**
 * The language of events/' `isClassPattern` as one regular expression, built from the vocabulary
 * table, for JSON Schemas (api/, config) so a schema and the code cannot disagree.
 */
export const CLASS_PATTERN_REGEX = '^(' + [
  '\\*',
  `(${STANDARD_SUBJECTS.map(escape).join('|')})\\.\\*`,
  ...STANDARD_EVENT_CLASSES.map(escape),
  'x\\.[a-zA-Z0-9]+-[a-zA-Z]+\\.(\\*|[a-zA-Z]+)'
].join('|') + ')$'

/** `isClassPattern` for values of unknown type, bounded like the schemas. */
export function isValidClassPattern (value: unknown): value is string {
  return typeof value === 'string' && value.length <= MAX_CLASS_PATTERN_LENGTH && isClassPattern(value)
}

/** A set of validated patterns compiled for O(1) membership tests. */
export type ClassMatcher = (eventClass: EventClass) => boolean

/** The `subject.` part a `subject.*` pattern covers: everything up to the class's last dot. */
function subjectPrefixOf (eventClass: string): string {
  return eventClass.slice(0, eventClass.lastIndexOf('.') + 1)
}

/**
 * Same answers as `classMatchesPattern` over every pattern, for patterns that passed
 * `isClassPattern` and classes of verified events.
 */
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
