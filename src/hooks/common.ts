import { createHash, createHmac, timingSafeEqual } from 'node:crypto'
import { InvalidRequestError } from '../errors.js'
import { CDEVENTS_SPEC_VERSION, standardTypeOf } from '../events/index.js'
import type { CDEvent } from '../events/types.js'
import type { HookDelivery, SourceSecrets } from './types.js'

/**
 * Pieces every source kind uses: constant-time credential checks, the body as JSON, deterministic
 * event ids and the CDEvent envelope. One copy here, so no kind compares secrets its own way.
 */

/**
 * Equal strings, in time independent of where they differ. Both sides are hashed first so
 * `timingSafeEqual` always sees equal lengths and the length of the secret does not leak.
 */
export function constantTimeEqual (presented: string, expected: string): boolean {
  const a = createHash('sha256').update(presented, 'utf8').digest()
  const b = createHash('sha256').update(expected, 'utf8').digest()
  return timingSafeEqual(a, b)
}

/** Whether `presented` equals the current or, during a rotation, the previous secret. */
export function matchesSecret (presented: string | undefined, secrets: SourceSecrets): boolean {
  if (presented === undefined || presented === '') return false
  // both compared, so the answer takes as long whichever matched
  const current = constantTimeEqual(presented, secrets.current)
  const previous = secrets.previous !== undefined && constantTimeEqual(presented, secrets.previous)
  return current || previous
}

/** Lower-case hex HMAC of the raw body, as GitHub (`sha256`) and Nexus (`sha1`) sign webhooks. */
export function hmacHex (algorithm: 'sha1' | 'sha256', secret: string, body: Uint8Array): string {
  return createHmac(algorithm, secret).update(body).digest('hex')
}

/** Whether `presented` is the HMAC of the body under the current or the previous secret. */
export function matchesHmac (algorithm: 'sha1' | 'sha256', presented: string | undefined, secrets: SourceSecrets, body: Uint8Array): boolean {
  if (presented === undefined || presented === '') return false
  const current = constantTimeEqual(presented.toLowerCase(), hmacHex(algorithm, secrets.current, body))
  const previous = secrets.previous !== undefined && constantTimeEqual(presented.toLowerCase(), hmacHex(algorithm, secrets.previous, body))
  return current || previous
}

/** The body as JSON; a body that is not JSON is a malformed delivery (400). */
export function jsonBody (delivery: HookDelivery): unknown {
  try {
    return JSON.parse(Buffer.from(delivery.body).toString('utf8'))
  } catch (err) {
    throw new InvalidRequestError(`the webhook body is not JSON: ${(err as Error).message}`)
  }
}

/** sha256 of the body, hex: the event id when the tool sends no delivery id. */
export function contentHash (delivery: HookDelivery): string {
  return createHash('sha256').update(delivery.body).digest('hex')
}

/**
 * The deterministic id of the `index`-th event one delivery becomes: the tool's delivery id (or
 * the content hash) with `-<index>` appended when the delivery yields more than one event.
 * A redelivery of the same webhook then repeats the same (source, id): an idempotent repeat.
 */
export function eventId (deliveryId: string, index = 0, count = 1): string {
  return count > 1 ? `${deliveryId}-${index}` : deliveryId
}

export interface EnvelopeInput {
  /** an event class such as `change.merged`; the current v0.5.1 type of the class is used */
  eventClass: string
  id: string
  /** the tool's own URL (`https://github.com/<owner>/<repo>`, the GitLab project URL, …) */
  source: string
  /** RFC 3339; the tool's own time of the event when it sends one */
  timestamp: string
  subjectId: string
  subjectSource?: string
  content: Record<string, unknown>
  chainId?: string
  customData?: unknown
}

/** A CDEvent v0.5.1 of a standard class; the caller validates it (validateCDEvent) before use. */
export function cdevent (input: EnvelopeInput): CDEvent {
  const type = standardTypeOf(input.eventClass)
  if (type === undefined) throw new Error(`not a standard event class: ${input.eventClass}`)
  return {
    context: {
      specversion: CDEVENTS_SPEC_VERSION,
      id: input.id,
      source: input.source,
      type,
      timestamp: input.timestamp,
      ...(input.chainId === undefined ? {} : { chainId: input.chainId })
    },
    subject: {
      id: input.subjectId,
      ...(input.subjectSource === undefined ? {} : { source: input.subjectSource }),
      content: input.content
    },
    ...(input.customData === undefined ? {} : { customData: input.customData, customDataContentType: 'application/json' })
  }
}

/** A header's value, or undefined; names are lower-case (HookDelivery). */
export function header (delivery: HookDelivery, name: string): string | undefined {
  const value = delivery.headers[name.toLowerCase()]
  return value === undefined || value === '' ? undefined : value
}
