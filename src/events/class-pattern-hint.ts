import { STANDARD_EVENT_CLASSES, STANDARD_SUBJECTS } from './event-type.js'
import { isClassPattern } from './topic.js'

/** A pattern echoed in a message is the user's own string: cut it. */
const MAX_ECHOED = 80
/**
 * Edits (insert, delete, substitute) a misspelling may be from the name meant: two catches
 * `artifacts`, `pipelnerun`, `artefact`, and stays clear of unrelated names.
 */
const MAX_SUGGESTION_DISTANCE = 2

/** Levenshtein distance, stopping early once over `max` (only near names matter). */
function distance (a: string, b: string, max: number): number {
  if (Math.abs(a.length - b.length) > max) return max + 1
  let previous = Array.from({ length: b.length + 1 }, (_, j) => j)
  for (let i = 1; i <= a.length; i++) {
    const current = [i]
    let best = i
    for (let j = 1; j <= b.length; j++) {
      const cost = a[i - 1] === b[j - 1] ? 0 : 1
      const value = Math.min((previous[j] ?? 0) + 1, (current[j - 1] ?? 0) + 1, (previous[j - 1] ?? 0) + cost)
      current.push(value)
      if (value < best) best = value
    }
    if (best > max) return max + 1
    previous = current
  }
  return previous[b.length] ?? max + 1
}

function nearest (word: string, candidates: readonly string[]): string | undefined {
  let found: string | undefined
  let best = MAX_SUGGESTION_DISTANCE + 1
  for (const candidate of candidates) {
    const d = distance(word, candidate, MAX_SUGGESTION_DISTANCE)
    if (d < best) { best = d; found = candidate }
  }
  return found
}

/**
 * Why `pattern` is not a class pattern, in words a user can act on: the nearest subject or class
 * when there is one, else the subjects (or a subject's classes) to choose from. Never a regular
 * expression. Undefined when the pattern is valid.
 */
export function classPatternProblem (pattern: string): string | undefined {
  if (isClassPattern(pattern)) return undefined
  const shown = JSON.stringify(pattern.length > MAX_ECHOED ? `${pattern.slice(0, MAX_ECHOED)}…` : pattern)
  const subjects = `subjects: ${STANDARD_SUBJECTS.join(', ')}`
  const forms = 'a class pattern is *, <subject>.*, <subject>.<predicate> (e.g. artifact.published) or x.<tool>-<subject>.<predicate>'
  if (pattern.startsWith('x.')) return `${shown} is not a custom class pattern: custom classes are x.<tool>-<subject>.<predicate> or x.<tool>-<subject>.* (letters and digits)`
  const dot = pattern.indexOf('.')
  const subject = dot === -1 ? pattern : pattern.slice(0, dot)
  const rest = dot === -1 ? undefined : pattern.slice(dot + 1)
  if ((STANDARD_SUBJECTS as readonly string[]).includes(subject)) {
    if (rest === undefined) return `${shown} is a subject, not a class pattern: did you mean "${subject}.*"?`
    const classes = STANDARD_EVENT_CLASSES.filter(c => c.startsWith(`${subject}.`))
    const guess = nearest(pattern, classes)
    return `unknown event class ${shown}${guess === undefined ? '' : `; did you mean "${guess}"?`} classes of ${subject}: ${classes.join(', ')}, or ${subject}.*`
  }
  const guess = nearest(subject, STANDARD_SUBJECTS)
  if (guess !== undefined) return `unknown subject ${JSON.stringify(subject.slice(0, MAX_ECHOED))}; did you mean "${guess}"? ${subjects}`
  return `${shown} is not a class pattern: ${forms}; ${subjects}`
}
