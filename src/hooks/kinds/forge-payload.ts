import { PackageURL } from 'packageurl-js'
import { InvalidRequestError } from '../../errors.js'
import { dateTimeToEpochMs } from '../../events/index.js'

/**
 * Reading the untrusted JSON of the github, gitlab and gerrit kinds: every required field is
 * looked up by its dotted path and, when missing or of the wrong type, refused with an
 * InvalidRequestError that names the path, so a tool's operator sees which field was wrong.
 * Also the tools' time formats, normalised to RFC 3339, and Package URLs.
 */

export type JsonObject = Record<string, unknown>

/** A dotted path deeper than this is a programming error, not a payload shape. */
const MAX_PATH_DEPTH = 8

/**
 * Times before this are placeholders, not times: GitHub sends Go's zero time
 * (`0001-01-01T00:00:00Z`) for fields it has no value for.
 */
const EARLIEST_REAL_TIME_MS = Date.UTC(1971, 0, 1)
/** Epoch seconds beyond year 9999 cannot be written as an RFC 3339 timestamp. */
const LATEST_EPOCH_SECONDS = 253402300799

/** GitLab's Ruby form: `2016-08-12 15:23:28 UTC` or `2021-04-28 21:50:00 +0200`. */
const GITLAB_TIME_RE = /^(\d{4}-\d{2}-\d{2}) (\d{2}:\d{2}:\d{2}(?:\.\d+)?) ?(UTC|[+-]\d{2}:?\d{2})$/

export function isObject (value: unknown): value is JsonObject {
  return typeof value === 'object' && value !== null && !Array.isArray(value)
}

/** The JSON body's root, which every mapped payload requires to be an object. */
export function rootObject (value: unknown, what: string): JsonObject {
  if (!isObject(value)) throw new InvalidRequestError(`${what}: the payload is not a JSON object`)
  return value
}

function lookup (root: JsonObject, path: string): unknown {
  const keys = path.split('.')
  if (keys.length > MAX_PATH_DEPTH) throw new Error(`path too deep: ${path}`)
  let node: unknown = root
  for (const key of keys) {
    if (!isObject(node) || !Object.hasOwn(node, key)) return undefined
    node = node[key]
  }
  return node
}

/**
 * `what` names the payload for messages: `<kind> <event>`, followed by `: <path>` when the lookup
 * is relative to a nested object, so the message names the field's full path.
 */
function missing (what: string, path: string, expected: string): InvalidRequestError {
  const at = what.indexOf(': ')
  const [label, full] = at < 0 ? [what, path] : [what.slice(0, at), `${what.slice(at + 2)}.${path}`]
  return new InvalidRequestError(`${label}: ${full} is missing or is not ${expected}`)
}

export function objectAt (root: JsonObject, path: string, what: string): JsonObject {
  const value = lookup(root, path)
  if (!isObject(value)) throw missing(what, path, 'an object')
  return value
}

export function optionalObjectAt (root: JsonObject, path: string): JsonObject | undefined {
  const value = lookup(root, path)
  return isObject(value) ? value : undefined
}

/** A non-empty string. */
export function stringAt (root: JsonObject, path: string, what: string): string {
  const value = lookup(root, path)
  if (typeof value !== 'string' || value === '') throw missing(what, path, 'a non-empty string')
  return value
}

/** A non-empty string, or undefined when absent, null, empty or not a string (optional fields are not worth a 400). */
export function optionalStringAt (root: JsonObject, path: string): string | undefined {
  const value = lookup(root, path)
  return typeof value === 'string' && value !== '' ? value : undefined
}

/** A non-negative integer; some tools send ids as numeric strings, which are accepted. */
export function integerAt (root: JsonObject, path: string, what: string): number {
  const value = optionalIntegerAt(root, path)
  if (value === undefined) throw missing(what, path, 'a non-negative integer')
  return value
}

/** Digits of an id sent as a string: 15 always fit a safe integer. */
const NUMERIC_STRING_RE = /^\d{1,15}$/

export function optionalIntegerAt (root: JsonObject, path: string): number | undefined {
  const value = lookup(root, path)
  const n = typeof value === 'string' && NUMERIC_STRING_RE.test(value) ? Number(value) : value
  return typeof n === 'number' && Number.isSafeInteger(n) && n >= 0 ? n : undefined
}

export function optionalBooleanAt (root: JsonObject, path: string): boolean | undefined {
  const value = lookup(root, path)
  return typeof value === 'boolean' ? value : undefined
}

/**
 * A tool's time as RFC 3339 in UTC (`2019-05-15T15:20:55.000Z`): ISO 8601 / RFC 3339 strings,
 * GitLab's `2016-08-12 15:23:28 UTC` form, and epoch seconds (Gerrit). Undefined for anything
 * else, and for placeholder times before 1971.
 */
export function normaliseTime (value: unknown): string | undefined {
  let ms: number
  if (typeof value === 'number') {
    if (!Number.isFinite(value) || value <= 0 || value > LATEST_EPOCH_SECONDS) return undefined
    ms = Math.floor(value * 1000)
  } else if (typeof value === 'string') {
    const gitlab = GITLAB_TIME_RE.exec(value)
    let text = value
    if (gitlab !== null) {
      const [, date, time, zone] = gitlab as unknown as [string, string, string, string]
      text = `${date}T${time}${zone === 'UTC' ? 'Z' : `${zone.slice(0, 3)}:${zone.slice(-2)}`}`
    }
    // the project's one RFC 3339 parser: calendar-checked, so `2024-02-30` is no time
    const parsed = dateTimeToEpochMs(text)
    if (parsed === undefined) return undefined
    ms = parsed
  } else {
    return undefined
  }
  if (ms < EARLIEST_REAL_TIME_MS) return undefined
  return new Date(ms).toISOString()
}

/** The first of `paths` that holds a time, normalised; the payload is malformed when none does. */
export function timeAt (root: JsonObject, paths: readonly string[], what: string): string {
  for (const path of paths) {
    const time = normaliseTime(lookup(root, path))
    if (time !== undefined) return time
  }
  throw missing(what, paths.join(' or '), 'a timestamp')
}

export function optionalTimeAt (root: JsonObject, path: string): string | undefined {
  return normaliseTime(lookup(root, path))
}

/** An http(s) URL as a string, or undefined. */
export function optionalHttpUrlAt (root: JsonObject, path: string): string | undefined {
  const value = optionalStringAt(root, path)
  return value !== undefined && isHttpUrl(value) ? value : undefined
}

export function httpUrlAt (root: JsonObject, path: string, what: string): string {
  const value = optionalHttpUrlAt(root, path)
  if (value === undefined) throw missing(what, path, 'an http(s) URL')
  return value
}

export function isHttpUrl (value: string): boolean {
  try {
    const url = new URL(value)
    return url.protocol === 'https:' || url.protocol === 'http:'
  } catch {
    return false
  }
}

export interface PurlParts {
  type: string
  namespace?: string
  name: string
  version?: string
  qualifiers?: Record<string, string>
}

/**
 * A Package URL (https://github.com/package-url/purl-spec) built and encoded by packageurl-js,
 * which also applies each type's normalisation (e.g. lower-case `github` and `npm` names), so an
 * artifact gets the same id whichever tool reports it.
 */
export function purl (parts: PurlParts, what: string): string {
  try {
    return new PackageURL(parts.type, parts.namespace ?? null, parts.name, parts.version ?? null, parts.qualifiers ?? null, null).toString()
  } catch (err) {
    // the parts come from the payload: one purl refuses (an empty name, …) is a malformed payload
    throw new InvalidRequestError(`${what}: no valid Package URL can be made of it: ${(err as Error).message}`)
  }
}

/**
 * A payload value quoted in an `ignored` reason is cut to this: the reason is answered and
 * counted, and an authentic but odd payload must not make it large.
 */
export const MAX_QUOTED_LENGTH = 64

export function quoted (value: string): string {
  return JSON.stringify(value.length > MAX_QUOTED_LENGTH ? `${value.slice(0, MAX_QUOTED_LENGTH)}…` : value)
}

/**
 * CDEvents outcome of a finished run (`success`, `failure`, `cancel`, `error`) from a tool's
 * conclusion word, and the `errors` text for every outcome but success.
 */
export interface Outcome {
  outcome: 'success' | 'failure' | 'cancel' | 'error'
  errors?: string
}

export function outcomeOf (conclusion: string, table: Readonly<Record<string, Outcome['outcome']>>, tool: string): Outcome {
  const outcome = Object.hasOwn(table, conclusion) ? table[conclusion] : undefined
  if (outcome === 'success') return { outcome }
  // an unknown word is reported as an error of the tool, with the word kept for the reader
  return { outcome: outcome ?? 'error', errors: `${tool} conclusion: ${conclusion}` }
}
