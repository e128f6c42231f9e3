import type { CDEvent } from '../events/types.js'

/**
 * The contract between the hooks listener (HTTP, configuration, publishing) and the per-tool
 * source kinds (authentication and translation). A kind is pure: it gets the raw delivery and
 * its settings, never the network, the clock or the store, so every translation is testable with
 * the payloads the tools really send.
 */

/** The kinds of tool webhook the hooks listener understands. */
export const SOURCE_KIND_NAMES = ['github', 'gitlab', 'gerrit', 'jenkins', 'nexus', 'harbor', 'cdevents', 'generic'] as const
export type SourceKindName = typeof SOURCE_KIND_NAMES[number]

/** One webhook delivery as received: untrusted bytes and headers. */
export interface HookDelivery {
  /** header names lower-cased; a repeated header joined with ', ' as node:http does */
  headers: Readonly<Record<string, string | undefined>>
  /** the raw body exactly as received: signatures are computed over these bytes */
  body: Uint8Array
}

/**
 * A source's credentials, already read from its file or environment variable by the caller.
 * `previous` is accepted too while a secret is being rotated. Never logged, never returned.
 */
export interface SourceSecrets {
  current: string
  previous?: string
}

/** What a kind made of an authentic delivery. */
export type Translation =
  /**
   * CDEvents v0.5.1, each schema-valid, with a deterministic `context.id` (the tool's delivery
   * id, else a content hash; `-<n>` appended when one delivery yields several events) so a
   * redelivered webhook is an idempotent repeat, and `context.source` the tool's own URL.
   */
  | { kind: 'events', events: CDEvent[] }
  /** authentic, but no mapping for this event or action: answered 202 and counted, never a 4xx */
  | { kind: 'ignored', reason: string }

/**
 * `Result` is `Translation` for every kind that translates synchronously; a kind whose
 * translation must await (the generic kind: JSONata evaluates asynchronously) declares
 * `Promise<Translation>`, and the listener awaits whatever it gets.
 */
export interface SourceKind<Settings = unknown, Result extends Translation | Promise<Translation> = Translation> {
  readonly name: SourceKindName
  /**
   * Validate and normalise the kind's own settings (from config.yaml or POST /v1/sources);
   * throws InvalidRequestError naming the field. Called once, at load.
   */
  parseSettings(input: unknown): Settings
  /**
   * Whether the delivery carries the tool's own credential for these secrets, compared in
   * constant time. False for a missing or wrong credential (the listener answers 401).
   */
  authenticate(delivery: HookDelivery, secrets: SourceSecrets, settings: Settings): boolean
  /**
   * The CDEvents an authentic delivery becomes. Throws InvalidRequestError (400, with the
   * reason) when the payload is of a mapped event but malformed: not JSON, a required field
   * missing or of the wrong type.
   */
  translate(delivery: HookDelivery, settings: Settings): Result
}
