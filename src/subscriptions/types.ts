import type { EventClass } from '../events/types.js'

/** Where a subscription starts reading: live only, all history, after a cursor, or from a time. */
export type SubscriptionStart =
  | { kind: 'now' }
  | { kind: 'beginning' }
  | { kind: 'cursor', cursor: string }
  | { kind: 'time', time: string }

export interface SubscriptionFilter {
  /** origin peer IDs or trust names */
  origins?: string[]
  /** CloudEvent source prefix */
  sourcePrefix?: string
  /** subject id, exact */
  subject?: string
  /** subject.content.outcome, exact (e.g. `failure`) */
  outcome?: string
}

export interface WebhookSink {
  type: 'webhook'
  url: string
  /** CloudEvents HTTP binary mode (default) or structured mode */
  mode: 'binary' | 'structured'
  /** extra request headers, e.g. an auth token for the receiver */
  headers?: Record<string, string>
  /** retry budget before an event goes to the dead letters */
  maxAttempts?: number
  /** give up on an event older than this many seconds since its first attempt */
  maxAgeSeconds?: number
  /** per-request timeout */
  timeoutMs?: number
}

export type SubscriptionSink = { type: 'store' } | WebhookSink

/** A local declaration of interest: which classes to join and keep, and where they go. */
export interface Subscription {
  id: string
  /** class patterns: exact (`artifact.published`), `subject.*`, or `*` */
  classes: string[]
  filter: SubscriptionFilter
  /** accept events marked untrusted (open trust mode) */
  includeUntrusted: boolean
  start: SubscriptionStart
  sink: SubscriptionSink
  /** ISO time of creation */
  createdAt: string
  /** `config` entries come from the config file and cannot be deleted over the API */
  origin: 'config' | 'api'
}

/** The facts a subscription filter needs about one event. */
export interface MatchableEvent {
  eventClass: EventClass
  origin: string
  source: string
  subjectId: string
  outcome?: string
  trusted: boolean
}
