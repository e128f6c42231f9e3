import { isEventClass, isStandardSubject, STANDARD_EVENT_CLASSES } from './event-type.js'
import type { EventClass } from './types.js'

/** Every cdgossip topic starts with this, so the node never mistakes another app's topic for its own. */
export const TOPIC_PREFIX = 'cdgossip'

// Lowercase DNS-label-like: safe in topic strings, file names and metric labels alike.
const NETWORK_NAME_RE = /^[a-z0-9][a-z0-9-]{0,62}$/
const CUSTOM_SUBJECT_PREFIX_RE = /^x\.[a-zA-Z0-9]+-[a-zA-Z]+$/

/** `[a-z0-9][a-z0-9-]{0,62}`: the name that separates independent cdgossip networks. */
export function isValidNetworkName (name: string): boolean {
  return typeof name === 'string' && NETWORK_NAME_RE.test(name)
}

/**
 * The gossipsub topic of one event class: `cdgossip/<network>/<subject>.<predicate>`, custom
 * classes `cdgossip/<network>/x.<tool>-<subject>.<predicate>`. Both arguments come from validated
 * config or validated events, so a bad one is a bug: RangeError.
 */
export function topicFor (network: string, eventClass: EventClass): string {
  if (!isValidNetworkName(network)) throw new RangeError(`invalid network name: ${JSON.stringify(network)}`)
  if (!isEventClass(eventClass)) throw new RangeError(`invalid event class: ${JSON.stringify(eventClass)}`)
  return `${TOPIC_PREFIX}/${network}/${eventClass}`
}

/** The inverse of topicFor; `undefined` for anything that is not a cdgossip topic. */
export function parseTopic (topic: string): { network: string, eventClass: EventClass } | undefined {
  if (typeof topic !== 'string') return undefined
  const parts = topic.split('/')
  if (parts.length !== 3 || parts[0] !== TOPIC_PREFIX) return undefined
  const [, network, eventClass] = parts as [string, string, string]
  if (!isValidNetworkName(network) || !isEventClass(eventClass)) return undefined
  return { network, eventClass }
}

/** The part before `.*` when it names a subject: a standard one, or `x.<tool>-<subject>`. */
function wildcardPrefix (pattern: string): string | undefined {
  if (!pattern.endsWith('.*')) return undefined
  const prefix = pattern.slice(0, -2)
  return isStandardSubject(prefix) || CUSTOM_SUBJECT_PREFIX_RE.test(prefix) ? prefix : undefined
}

/** `*`, `<subject>.*` (standard subject), `x.<tool>-<subject>.*`, or an exact event class. */
export function isClassPattern (pattern: string): boolean {
  if (typeof pattern !== 'string') return false
  return pattern === '*' || wildcardPrefix(pattern) !== undefined || isEventClass(pattern)
}

/** Whether an event class falls under a class pattern (see isClassPattern); invalid patterns match nothing. */
export function classMatchesPattern (pattern: string, eventClass: EventClass): boolean {
  if (!isEventClass(eventClass)) return false
  if (pattern === '*') return true
  const prefix = wildcardPrefix(pattern)
  if (prefix !== undefined) return eventClass.startsWith(`${prefix}.`)
  return pattern === eventClass
}

/**
 * The classes a pattern names that can be listed (to join their topics): the standard classes it
 * covers, or the one custom class it names exactly. Custom wildcards (`x.tool-subject.*`) list
 * nothing, since their predicates are not known in advance.
 */
export function expandClassPattern (pattern: string): EventClass[] {
  if (pattern === '*') return [...STANDARD_EVENT_CLASSES]
  const prefix = wildcardPrefix(pattern)
  if (prefix !== undefined) return STANDARD_EVENT_CLASSES.filter(c => c.startsWith(`${prefix}.`))
  if (isEventClass(pattern)) return [pattern]
  return []
}
