import type { CDEvent, EventClass } from '../events/types.js'
import type { EventPage, EventQuery, StoredEvent } from '../store/types.js'
import type { TrustEntry, TrustMode } from '../trust/types.js'
import type { Subscription } from '../subscriptions/types.js'
import type { PeerInfo } from '../p2p/types.js'
import type { DeadLetter } from '../delivery/types.js'
import type { ArtifactView, TraceGraph, TraceOptions } from '../trace/types.js'

export type { DeadLetter }

/** One event to publish as the API parsed it from any of the accepted content types. */
export interface PublishItem {
  /** the CDEvent (not yet validated) */
  cdevent: unknown
  /**
   * CloudEvent context attributes when the event came as a CloudEvent (structured, binary or batch
   * mode); the node refuses (422) attributes that disagree with the CDEvent context.
   */
  cloudEventAttributes?: Record<string, unknown>
}

export interface PublishReceipt {
  digest: string
  id: string
  source: string
  type: string
  class: EventClass
  sequence: number
  /** `created` when this call stored it, `existing` for an idempotent repeat of identical content */
  status: 'created' | 'existing'
}

export interface NodeInfo {
  peerId: string
  network: string
  version: string
  apiUrl?: string
  listenAddresses: string[]
  topics: string[]
  peers: number
  /** gossip and sync outcome counters */
  counters: Record<string, number>
  trustMode: TrustMode
  store: { events: number }
  sync?: unknown
  /** sequences refused by this node's trust policy, by reason and per origin (bounded) */
  refusals?: unknown
  /** what each peer handed this node (bounded, most recently heard first) */
  peerStats?: unknown
}

/** GET /v1/config: what the node runs with. */
export interface NodeConfiguration {
  /**
   * The effective configuration as loaded at start (defaults < config file < environment <
   * flags), with webhook secrets hidden. Its shape is config.ts's NodeConfig, which api/ may not
   * import; the route's schema documents it.
   */
  config: Readonly<Record<string, unknown>>
  /** the live policy: config file entries and those added over the API */
  trust: { mode: TrustMode, entries: TrustEntry[] }
  subscriptions: Subscription[]
}

/** Subscription fields a client sends; the node fills id, createdAt and origin. */
export type SubscriptionInput = Omit<Subscription, 'id' | 'createdAt' | 'origin'> & { id?: string }


/**
 * The node as the REST API sees it: the only thing api/ talks to (STYLE rule 4).
 * Errors are CdgossipErrors; api/ maps their codes to HTTP statuses.
 */
export interface NodeFacade {
  info(): Promise<NodeInfo>
  /** GET /v1/config: the effective configuration and the live trust entries and subscriptions */
  configuration(): NodeConfiguration
  /** Validate, sign, store and gossip. A batch is all-or-nothing: any invalid item fails the call. */
  publish(items: PublishItem[]): Promise<PublishReceipt[]>
  getEvent(digest: string): Promise<StoredEvent | undefined>
  queryEvents(query: EventQuery): Promise<EventPage>
  /** GET /v1/chains/{chainId}: the held events of a chain and the edges between them */
  traceChain(chainId: string): Promise<TraceGraph>
  /** GET /v1/events/{digest}/trace: the bounded graph around one event; undefined when it is not held */
  traceEvent(digest: string, options: TraceOptions): Promise<TraceGraph | undefined>
  /** GET /v1/artifacts/{purl}: one artifact across communities, with its confidence summary */
  artifact(purl: string): Promise<ArtifactView>
  /** Called for every newly stored event, in store order; returns the unsubscribe function. */
  onStored(listener: (stored: StoredEvent) => void): () => void

  trustMode(): TrustMode
  listTrust(): TrustEntry[]
  addTrust(entry: Omit<TrustEntry, 'classes'> & { classes?: string[] }): Promise<TrustEntry>
  /** by peer ID or name; false when absent */
  removeTrust(peerIdOrName: string): Promise<boolean>

  listSubscriptions(): Subscription[]
  getSubscription(id: string): Subscription | undefined
  addSubscription(input: SubscriptionInput): Promise<Subscription>
  removeSubscription(id: string): Promise<boolean>
  listDeadLetters(subscriptionId: string): Promise<DeadLetter[]>
  /** re-queue dead letters (all, or the given digests); returns how many were re-queued */
  redriveDeadLetters(subscriptionId: string, digests?: string[]): Promise<number>

  peers(): PeerInfo[]

  /**
   * SSE frames for GET /v1/stream: replay after `after` (a cursor, from Last-Event-ID), then live
   * events, filtered by the query or by a subscription's rules; ends on `signal`, or with an
   * overflow frame when the client reads too slowly (it then resumes with its last id).
   * Resolves once the filter and cursor are checked (bad ones reject), before any event exists.
   */
  openStream(options: StreamOptions): Promise<AsyncGenerator<string, void, undefined>>

  /** Verify and store signed records (an export): the same checks as gossip, whatever the subscriptions. */
  importRecords(records: Uint8Array[]): Promise<ImportResult>

  /** GET /metrics: the node's metrics in the Prometheus text format. */
  metrics(): Promise<MetricsScrape>
}

export interface MetricsScrape {
  /** `text/plain; version=0.0.4; charset=utf-8` */
  contentType: string
  body: string
}

/** One finished request, reported to `ApiComponents.observeRequest` (metrics). */
export interface RequestSample {
  method: string
  /** the route pattern (`/v1/events/:digest`), never the raw URL; undefined when no route matched */
  route: string | undefined
  statusCode: number
  durationSeconds: number
}

export interface StreamOptions {
  query: Omit<EventQuery, 'limit' | 'cursor'>
  /** stream what this subscription matches instead of `query` */
  subscription?: string
  after?: string
  /** without `after`: start with the last N matching stored events (0: only new ones) */
  last?: number
  signal: AbortSignal
}

export interface ImportResult {
  stored: number
  duplicates: number
  refused: Array<{ index: number, code: string, message: string }>
}

export type { CDEvent }
