import { isCdgossipError, InvalidRequestError } from '../../errors.js'
import { CDEVENTS_SPEC_VERSION, validateCDEvent } from '../../events/index.js'
import { constantTimeEqual, header, matchesSecret } from '../common.js'
import type { CDEvent } from '../../events/types.js'
import type { HookDelivery, SourceSecrets } from '../types.js'

/**
 * Helpers shared by the jenkins, nexus, harbor, cdevents and generic kinds: reading the
 * `Authorization` header of the tools that do not sign (a bearer or basic token), reading fields
 * of an untrusted payload with errors that name the field, times normalised to RFC 3339, and the
 * settings every one of these kinds checks the same way.
 */

/** The credential in an `Authorization` header, split by scheme (case-insensitive, RFC 9110). */
export type AuthorizationCredential =
  | { scheme: 'bearer', token: string }
  | { scheme: 'basic', user: string, password: string }

/** Longest `Authorization` value looked at: far above any real token, so a huge header is refused cheaply. */
export const MAX_AUTHORIZATION_LENGTH = 8192

export function authorizationCredential (delivery: HookDelivery): AuthorizationCredential | undefined {
  const value = header(delivery, 'authorization')
  if (value === undefined || value.length > MAX_AUTHORIZATION_LENGTH) return undefined
  const m = /^([A-Za-z]+) +(\S+) *$/.exec(value)
  if (m === null) return undefined
  const scheme = m[1]!.toLowerCase()
  const credentials = m[2]!
  if (scheme === 'bearer') return { scheme: 'bearer', token: credentials }
  if (scheme !== 'basic') return undefined
  const decoded = Buffer.from(credentials, 'base64').toString('utf8')
  const colon = decoded.indexOf(':')
  if (colon < 0) return undefined
  return { scheme: 'basic', user: decoded.slice(0, colon), password: decoded.slice(colon + 1) }
}

/** `Authorization: Bearer <secret>` with the current or, during a rotation, the previous secret. */
export function matchesBearer (delivery: HookDelivery, secrets: SourceSecrets): boolean {
  const credential = authorizationCredential(delivery)
  return credential?.scheme === 'bearer' && matchesSecret(credential.token, secrets)
}

/**
 * How tools that do not sign their webhooks (Jenkins, Gerrit) authenticate: `Authorization:
 * Bearer <secret>`, or Basic credentials whose password is the secret and whose user, when the
 * source names one, is that user.
 */
export function matchesTokenOrBasic (delivery: HookDelivery, secrets: SourceSecrets, user: string | undefined): boolean {
  const credential = authorizationCredential(delivery)
  if (credential === undefined) return false
  if (credential.scheme === 'bearer') return matchesSecret(credential.token, secrets)
  // both compared, so the answer takes as long whichever is wrong
  const password = matchesSecret(credential.password, secrets)
  const userMatches = user === undefined || constantTimeEqual(credential.user, user)
  return password && userMatches
}

/** The optional Basic `user` setting of a token-authenticated kind. */
export function userSetting (kind: string, value: unknown): string {
  if (typeof value !== 'string' || value === '') throw new InvalidRequestError(`${kind} settings: "user" must be a non-empty string`)
  return value
}

// --- settings ------------------------------------------------------------------------------------

export function settingsObject (kind: string, input: unknown, allowed: readonly string[]): Record<string, unknown> {
  if (input === undefined || input === null) return {}
  if (!isRecord(input)) throw new InvalidRequestError(`${kind} settings must be an object`)
  for (const key of Object.keys(input)) {
    if (!allowed.includes(key)) throw new InvalidRequestError(`${kind} settings: unknown field "${key}" (known: ${allowed.join(', ') || 'none'})`)
  }
  return input
}

/** An absolute http(s) URL setting, without a trailing slash (so paths can be appended). */
export function urlSetting (kind: string, field: string, value: unknown): string {
  if (typeof value !== 'string' || value === '') throw new InvalidRequestError(`${kind} settings: "${field}" must be the tool's base URL`)
  let url: URL
  try {
    url = new URL(value)
  } catch {
    throw new InvalidRequestError(`${kind} settings: "${field}" is not a URL: ${value}`)
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:') throw new InvalidRequestError(`${kind} settings: "${field}" must be an http(s) URL`)
  if (url.username !== '' || url.password !== '') throw new InvalidRequestError(`${kind} settings: "${field}" must not carry credentials`)
  return url.href.replace(/\/+$/, '')
}

// --- reading untrusted payloads ------------------------------------------------------------------

export function isRecord (value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value)
}

/** An object field of the payload, or a 400 naming it. */
export function requireRecord (value: unknown, path: string, kind: string): Record<string, unknown> {
  if (!isRecord(value)) throw new InvalidRequestError(`${kind}: the payload has no object "${path}"`)
  return value
}

/** A non-empty string field of the payload, or a 400 naming it. */
export function requireString (value: unknown, path: string, kind: string): string {
  if (typeof value !== 'string' || value === '') throw new InvalidRequestError(`${kind}: the payload has no string "${path}"`)
  return value
}

/** A string field when present and non-empty; anything else is treated as absent. */
export function optionalString (value: unknown): string | undefined {
  return typeof value === 'string' && value !== '' ? value : undefined
}

/** An absolute URL, or undefined: 0.5.1 `uri` fields are absolute, so anything else is left out. */
export function absoluteUri (value: string | undefined, base?: string): string | undefined {
  if (value === undefined) return undefined
  try {
    return base === undefined ? new URL(value).href : new URL(value, `${base}/`).href
  } catch {
    return undefined
  }
}

const RFC3339 = /^\d{4}-\d{2}-\d{2}[Tt ]\d{2}:\d{2}:\d{2}(\.\d+)?([Zz]|[+-]\d{2}:?\d{2})$/

/**
 * A payload time as RFC 3339 UTC. Accepts RFC 3339 / ISO 8601 strings (also the `+0000` offset
 * Nexus writes) and epoch numbers (`unit` says seconds or milliseconds). Normalising through
 * Date keeps it deterministic: the same payload always gives the same string.
 */
export function toRfc3339 (value: unknown, path: string, kind: string, unit: 'seconds' | 'milliseconds' = 'milliseconds'): string {
  let ms: number | undefined
  if (typeof value === 'number' && Number.isFinite(value)) ms = unit === 'seconds' ? value * 1000 : value
  else if (typeof value === 'string' && RFC3339.test(value)) ms = Date.parse(value.replace(/([+-]\d{2})(\d{2})$/, '$1:$2').replace(' ', 'T'))
  if (ms === undefined || !Number.isFinite(ms) || Math.abs(ms) > MAX_EPOCH_MS) {
    throw new InvalidRequestError(`${kind}: "${path}" is not a time: ${JSON.stringify(value)?.slice(0, 64)}`)
  }
  return new Date(ms).toISOString()
}

/** The largest instant a JS Date holds (±100,000,000 days from the epoch). */
const MAX_EPOCH_MS = 8.64e15

/**
 * The event, checked against the 0.5.1 schemas; a translation that does not validate comes from
 * a payload with fields of unexpected shapes, so it is a malformed delivery (400, the violations
 * as details), never a half-valid event.
 */
export function validatedEvent (event: unknown, kind: string): CDEvent {
  try {
    return validateCDEvent(event).cdevent
  } catch (err) {
    if (!isCdgossipError(err)) throw err
    throw new InvalidRequestError(`${kind}: the event is not valid CDEvents ${CDEVENTS_SPEC_VERSION}: ${err.message}`, err.details)
  }
}
