import { multiaddr } from '@multiformats/multiaddr'
import { peerIdFromString } from '@libp2p/peer-id'
import type { ErrorObject } from 'ajv'
import { classPatternProblem, closest, expandClassPattern } from './events/index.js'
import { DEFAULT_MAX_SUBSCRIPTIONS, InvalidSubscriptionError, SUBSCRIPTION_ID_REGEX, subscriptionInputSchema, validateSubscriptionInput } from './subscriptions/index.js'
import { InvalidSourceError, MAX_SOURCES, SOURCE_FIELDS, validateSourceInput } from './hooks/index.js'
import { DEFAULT_MAX_TRUST_ENTRIES, InvalidTrustEntryError, TRUST_NAME_REGEX, isValidClassPattern, trustEntryInputSchema, trustKeyOf, validateTrustEntry } from './trust/index.js'

/**
 * How config.ts turns what is wrong with a configuration into problems a user can act on: a path
 * in the file's own terms (`subscriptions[0].sink.url`), a message without regular expressions,
 * and a guess at the key or class pattern that was meant. Subscriptions and trust entries are
 * checked by the validators the REST API uses, so a file is refused exactly where a POST would be.
 */

export interface ConfigProblem {
  /** path of the setting, e.g. `p2p.relay[0]`, `subscriptions[1].sink.url`, or `env CDGOSSIP_API_PORT` */
  key: string
  message: string
  /** where the value came from: the config file's path, or `command line`; absent for the environment (its key names the variable) */
  source?: string
}

/** One line per problem: `<file>: <path>: <message>`, the way compilers name a place. */
export function formatProblem (p: ConfigProblem): string {
  const key = p.key === FILE_KEY ? '' : `${p.key}: `
  return `${p.source === undefined ? '' : `${p.source}: `}${key}${p.message}`
}

/** The key of a problem with the file as a whole (not YAML, two config files). */
export const FILE_KEY = '(file)'

/** `a.b` + 3 → `a.b[3]`, `a` + `b` → `a.b`; the root is the empty string. */
export function childPath (base: string, segment: string | number): string {
  if (typeof segment === 'number') return `${base}[${segment}]`
  return base === '' ? segment : `${base}.${segment}`
}

/** An Ajv instancePath (`/trust/communities/0/name`) in the file's terms (`trust.communities[0].name`). */
export function pathOfPointer (pointer: string): string {
  if (pointer === '') return ''
  return pointer.slice(1).split('/').map(s => s.replace(/~1/g, '/').replace(/~0/g, '~')).reduce<string>((path, s) => childPath(path, /^(0|[1-9][0-9]*)$/.test(s) ? Number(s) : s), '')
}

export function unknownField (key: string, known: readonly string[]): string {
  const guess = closest(key, known)
  return guess === undefined ? `unknown field (known: ${known.join(', ')})` : `unknown field, did you mean ${guess}?`
}

/** Why `value` is not a class pattern: the one message subscriptions, trust and relays give (events/class-pattern-hint.ts). */
export function badClassPattern (value: unknown): string {
  if (typeof value !== 'string') return `${shownValue(value)} is not an event class pattern: a pattern is a string such as artifact.* or artifact.published`
  return classPatternProblem(value) ?? `${shownValue(value)} is not an event class pattern`
}

/**
 * A relay pattern, checked like a subscription's (trust/'s isValidClassPattern) and then for
 * what a relay can do with it: it joins topics, so a pattern naming no listable class
 * (`x.tool-thing.*`, whose predicates nobody knows in advance) would relay nothing.
 */
export function relayPatternProblem (value: string): string | undefined {
  if (!isValidClassPattern(value)) return badClassPattern(value)
  if (expandClassPattern(value).length === 0) return `${JSON.stringify(value)} names no topic a relay can join: name custom classes exactly (x.<tool>-<subject>.<predicate>)`
  return undefined
}

/** A listen multiaddr, as libp2p will parse it. */
export function listenAddressProblem (value: string): string | undefined {
  try {
    multiaddr(value)
    return undefined
  } catch {
    return `${JSON.stringify(value)} is not a multiaddr (e.g. /ip4/0.0.0.0/tcp/4001)`
  }
}

/** A bootstrap multiaddr: parseable, and ending in the peer ID the node must reach there. */
export function bootstrapAddressProblem (value: string): string | undefined {
  let id: string | null
  try {
    id = multiaddr(value).getPeerId()
  } catch {
    return `${JSON.stringify(value)} is not a multiaddr (e.g. /ip4/203.0.113.7/tcp/4001/p2p/12D3KooW…)`
  }
  if (id === null) return `${JSON.stringify(value)} has no /p2p/<peer ID>: add the peer ID the node printed at start`
  try {
    peerIdFromString(id)
  } catch {
    return `${JSON.stringify(value)} ends in ${JSON.stringify(id)}, which is not a peer ID`
  }
  return undefined
}

type JsonSchema = Readonly<{ properties?: Readonly<Record<string, unknown>>, additionalProperties?: unknown }>

function isPlainObject (value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value)
}

/**
 * Every unknown field of `value`, at any depth, against a schema's closed objects, each with a
 * guess; returns a copy without them, so the validator that runs next reports the next real
 * problem instead of the first unknown field again.
 */
function stripUnknownFields (value: unknown, schema: JsonSchema, path: string, problems: ConfigProblem[]): unknown {
  if (!isPlainObject(value) || schema.properties === undefined) return value
  const ofKind = fieldsOfKind(schema, value)
  const known = ofKind ?? Object.keys(schema.properties)
  const out: Record<string, unknown> = {}
  for (const [key, child] of Object.entries(value)) {
    const childSchema = ofKind !== undefined && !ofKind.includes(key) ? undefined : schema.properties[key] as JsonSchema | undefined
    if (childSchema === undefined) {
      if (schema.additionalProperties === false) problems.push({ key: childPath(path, key), message: unknownField(key, known) })
      else out[key] = child
      continue
    }
    out[key] = stripUnknownFields(child, childSchema, childPath(path, key), problems)
  }
  return out
}

/**
 * The fields an object of one kind takes, when its schema says so with
 * `allOf: [{if: {properties: {type: {const: K}}}, then: {propertyNames: {enum: [...]}}}]` (the sink
 * schema does, one branch per sink type): a webhook sink's unknown field lists the webhook's fields,
 * not every sink type's. Undefined when the schema has no such branch for the value, or for `store`
 * (whose refusal says it takes only `type`).
 */
function fieldsOfKind (schema: JsonSchema, value: Record<string, unknown>): string[] | undefined {
  const branches = (schema as { allOf?: unknown }).allOf
  if (!Array.isArray(branches) || typeof value.type !== 'string' || value.type === 'store') return undefined
  for (const branch of branches as Array<{ if?: { properties?: { type?: { const?: unknown } } }, then?: { propertyNames?: { enum?: unknown } } }>) {
    const names = branch.then?.propertyNames?.enum
    if (branch.if?.properties?.type?.const === value.type && Array.isArray(names)) return names.filter((n): n is string => typeof n === 'string')
  }
  return undefined
}

/** The validators' regular expressions in words: a configuration error is read by people. */
const PATTERN_WORDS: Readonly<Record<string, string>> = Object.freeze({
  [TRUST_NAME_REGEX]: 'must be 1-64 letters, digits, dots, underscores and dashes, starting with a letter or digit',
  [SUBSCRIPTION_ID_REGEX]: 'must be 1-64 lowercase letters, digits and dashes, starting with a letter or digit'
})

/** `classes[0] "x" is not …` under the path `classes[0]`: the line names the path already. */
function withoutField (message: string, field: string): string {
  let out = message.startsWith(`${field} `) ? message.slice(field.length + 1) : message
  for (const [regex, words] of Object.entries(PATTERN_WORDS)) out = out.replace(`must match ${regex}`, words)
  return out
}

/** A validator's refusal as a problem at `base.<field>`; class patterns get a suggestion. */
function validatorProblem (base: string, field: string, message: string, input: unknown): ConfigProblem {
  const key = field === 'entry' || field === 'subscription' ? base : `${base}.${field}`
  const classIndex = /^classes\[(\d+)\]$/.exec(field)
  if (classIndex !== null && isPlainObject(input) && Array.isArray(input.classes)) {
    return { key, message: badClassPattern(input.classes[Number(classIndex[1])]) }
  }
  if (isPlainObject(input) && /^[A-Za-z]+$/.test(field) && input[field] === undefined) return { key, message: 'is required' }
  // a field of the schema that this kind of sink or start does not take (`url` on a store sink)
  if (message === `unknown field ${field}`) return { key, message: 'not allowed here (a store sink takes only type; start takes only kind and the field its kind names)' }
  return { key, message: withoutField(message, field) }
}

/**
 * The config file's trust entries through trust/'s validator (the one POST /v1/trust uses),
 * plus what the node's policy refuses at start: one peer ID or one name listed twice.
 */
export function trustEntryProblems (entries: readonly unknown[], base: string): ConfigProblem[] {
  const problems: ConfigProblem[] = []
  if (entries.length > DEFAULT_MAX_TRUST_ENTRIES) problems.push({ key: base, message: `at most ${DEFAULT_MAX_TRUST_ENTRIES} trust entries, got ${entries.length}` })
  const byKey = new Map<string, number>()
  const byName = new Map<string, number>()
  entries.forEach((input, i) => {
    const path = childPath(base, i)
    const unknown: ConfigProblem[] = []
    const known = stripUnknownFields(input, trustEntryInputSchema, path, unknown)
    problems.push(...unknown)
    try {
      const entry = validateTrustEntry(known)
      const key = trustKeyOf(entry)
      const samePeer = byKey.get(key)
      if (samePeer !== undefined) problems.push({ key: `${path}.${entry.peerId === undefined ? 'community' : 'peerId'}`, message: `${key} is already listed in ${childPath(base, samePeer)}` })
      else byKey.set(key, i)
      const sameName = byName.get(entry.name)
      if (sameName !== undefined) problems.push({ key: `${path}.name`, message: `${entry.name} is already the name of ${childPath(base, sameName)}` })
      else byName.set(entry.name, i)
    } catch (err) {
      if (!(err instanceof InvalidTrustEntryError)) throw err
      if (!alreadySaid(unknown, err.details.field, err.message)) problems.push(validatorProblem(path, err.details.field, err.message, known))
    }
  })
  return problems
}

/**
 * Whether the unknown fields found first already say it: the validator's own "unknown field", or
 * a missing field that a misspelt one was guessed to be (`class` → did you mean classes?).
 */
function alreadySaid (unknown: readonly ConfigProblem[], field: string, message: string): boolean {
  if (unknown.length === 0) return false
  return message.startsWith('unknown') || unknown.some(p => p.message.endsWith(`did you mean ${field}?`))
}

/**
 * The config file's subscriptions through subscriptions/' validator (the one POST
 * /v1/subscriptions uses), plus what the node refuses at start: two entries with one id, or
 * identical entries without one (their derived ids would collide).
 */
export function subscriptionProblems (entries: readonly unknown[], base: string): ConfigProblem[] {
  const problems: ConfigProblem[] = []
  if (entries.length > DEFAULT_MAX_SUBSCRIPTIONS) problems.push({ key: base, message: `at most ${DEFAULT_MAX_SUBSCRIPTIONS} subscriptions, got ${entries.length}` })
  const byId = new Map<string, number>()
  const byContent = new Map<string, number>()
  entries.forEach((input, i) => {
    const path = childPath(base, i)
    const unknown: ConfigProblem[] = []
    const known = stripUnknownFields(input, subscriptionInputSchema, path, unknown)
    problems.push(...unknown)
    try {
      const normal = validateSubscriptionInput(known)
      if (normal.id !== undefined) {
        const same = byId.get(normal.id)
        if (same !== undefined) problems.push({ key: `${path}.id`, message: `${normal.id} is already the id of ${childPath(base, same)}` })
        else byId.set(normal.id, i)
      } else {
        const content = JSON.stringify(normal)
        const same = byContent.get(content)
        if (same !== undefined) problems.push({ key: path, message: `the same subscription as ${childPath(base, same)}: remove one, or give each an id` })
        else byContent.set(content, i)
      }
    } catch (err) {
      if (!(err instanceof InvalidSubscriptionError)) throw err
      if (!alreadySaid(unknown, err.details.field, err.message)) problems.push(validatorProblem(path, err.details.field, err.message, known))
    }
  })
  return problems
}

/**
 * The config file's sources through hooks/' validator (the one POST /v1/sources uses, which runs
 * the kind's own settings check), plus what the node refuses at start: one name listed twice.
 */
export function sourceProblems (entries: readonly unknown[], base: string): ConfigProblem[] {
  const problems: ConfigProblem[] = []
  if (entries.length > MAX_SOURCES) problems.push({ key: base, message: `at most ${MAX_SOURCES} sources, got ${entries.length}` })
  const byName = new Map<string, number>()
  entries.forEach((input, i) => {
    const path = childPath(base, i)
    if (isPlainObject(input)) {
      for (const key of Object.keys(input)) {
        if (!(SOURCE_FIELDS as readonly string[]).includes(key)) problems.push({ key: childPath(path, key), message: unknownField(key, SOURCE_FIELDS) })
      }
    }
    const known = isPlainObject(input) ? Object.fromEntries(Object.entries(input).filter(([k]) => (SOURCE_FIELDS as readonly string[]).includes(k))) : input
    try {
      const source = validateSourceInput(known)
      const same = byName.get(source.name)
      if (same !== undefined) problems.push({ key: `${path}.name`, message: `${source.name} is already the name of ${childPath(base, same)}` })
      else byName.set(source.name, i)
    } catch (err) {
      if (!(err instanceof InvalidSourceError)) throw err
      const field = err.details.field
      problems.push({ key: field === 'source' ? path : `${path}.${field}`, message: withoutField(err.message, field) })
    }
  })
  return problems
}

/**
 * The one check of trust entries that needs the node's identity: an entry for this node itself,
 * which the policy refuses at start (its own events are always trusted). `entries` are valid.
 */
export function selfTrustProblems (entries: readonly unknown[], selfPeerId: string, source: string | undefined): ConfigProblem[] {
  const problems: ConfigProblem[] = []
  entries.forEach((input, i) => {
    if (validateTrustEntry(input).peerId === selfPeerId) {
      problems.push({ ...(source === undefined ? {} : { source }), key: `${childPath('trust.communities', i)}.peerId`, message: `${selfPeerId} is this node's own peer ID; its events are always trusted: remove the entry (or use this file on the other nodes only)` })
    }
  })
  return problems
}

/** JSON Schema types as a YAML user knows them. */
const TYPE_WORDS: Readonly<Record<string, string>> = Object.freeze({ array: 'a list', object: 'a mapping (key: value)', integer: 'a whole number', string: 'a string', boolean: 'true or false' })

/** A value in a message: short strings quoted, anything else by its kind. */
function shownValue (value: unknown): string {
  if (typeof value === 'string') return JSON.stringify(value.length > 80 ? `${value.slice(0, 80)}…` : value)
  if (typeof value === 'number' || typeof value === 'boolean') return String(value)
  if (value === null || value === undefined) return 'nothing'
  return Array.isArray(value) ? 'a list' : 'a mapping'
}

/**
 * An Ajv error of the config file schema (compiled with `verbose`, so it carries the value) as a problem. `schemaAt` gives the schema object at an
 * instance path, so an unknown key can be compared with the keys that are known there.
 */
export function ajvProblem (err: ErrorObject, knownKeysAt: (path: string) => readonly string[]): ConfigProblem {
  const base = pathOfPointer(err.instancePath)
  if (err.keyword === 'additionalProperties') {
    const extra = String((err.params as { additionalProperty: string }).additionalProperty)
    return { key: childPath(base, extra), message: unknownField(extra, knownKeysAt(base)) }
  }
  if (err.keyword === 'required') {
    const missing = String((err.params as { missingProperty: string }).missingProperty)
    return { key: childPath(base, missing), message: 'is required' }
  }
  if (err.keyword === 'type') {
    const type = String((err.params as { type: string }).type)
    return { key: base === '' ? '(root)' : base, message: `must be ${TYPE_WORDS[type] ?? type}, got ${shownValue(err.data)}` }
  }
  if (err.keyword === 'enum') {
    return { key: base, message: `must be one of ${(err.params as { allowedValues: unknown[] }).allowedValues.map(v => JSON.stringify(v)).join(', ')}` }
  }
  return { key: base === '' ? '(root)' : base, message: err.message ?? 'is invalid' }
}
