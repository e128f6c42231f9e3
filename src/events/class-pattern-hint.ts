import { STANDARD_EVENT_CLASSES, STANDARD_SUBJECTS } from './event-type.js'
import { closest } from './did-you-mean.js'
import { isClassPattern } from './topic.js'

/** A pattern echoed in a message is the user's own string: cut it. */
const MAX_ECHOED = 80
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
  // a whole CDEvents type where a class was meant: dev.cdevents.artifact.published.0.3.0
  const type = /^dev\.cdevents\.([a-z]+)\.([a-z]+)(\.|$)/.exec(pattern)
  if (type !== null && isClassPattern(`${type[1] ?? ''}.${type[2] ?? ''}`)) return `${shown} is an event type, not a class pattern: did you mean "${type[1] ?? ''}.${type[2] ?? ''}"?`
  if (pattern.startsWith('x.')) return `${shown} is not a custom class pattern: custom classes are x.<tool>-<subject>.<predicate> or x.<tool>-<subject>.* (letters and digits)`
  const dot = pattern.indexOf('.')
  const subject = dot === -1 ? pattern : pattern.slice(0, dot)
  const rest = dot === -1 ? undefined : pattern.slice(dot + 1)
  if ((STANDARD_SUBJECTS as readonly string[]).includes(subject)) {
    if (rest === undefined) return `${shown} is a subject, not a class pattern: did you mean "${subject}.*"?`
    const classes = STANDARD_EVENT_CLASSES.filter(c => c.startsWith(`${subject}.`))
    const guess = closest(pattern, classes)
    return `unknown event class ${shown}${guess === undefined ? '' : `; did you mean "${guess}"?`} classes of ${subject}: ${classes.join(', ')}, or ${subject}.*`
  }
  const guess = closest(subject, STANDARD_SUBJECTS)
  if (guess !== undefined) return `unknown subject ${JSON.stringify(subject.slice(0, MAX_ECHOED))}; did you mean "${guess}"? ${subjects}`
  return `${shown} is not a class pattern: ${forms}; ${subjects}`
}
