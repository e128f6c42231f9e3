import type { CDEvent, EventClass } from '../events/types.js'
import type { HookCounts, Source, SourceInput } from '../hooks/index.js'
import type { EventPage, EventQuery, StoredEvent } from '../events/records.js'
import type { TrustEntry, TrustMode } from '../trust/types.js'
import type { CommunityPublishResult, CommunityView } from './community.js'
import type { Subscription } from '../subscriptions/types.js'
import type { ArtifactView, ResolveOption, TraceGraph, TraceOptions } from './trace.js'

/**
 * The node as its front ends see it (the REST API, metrics, the CLI through the API): one
 * contract, so api/ depends on this file and not on the folders that implement it (STYLE rule 4).
 * The types the contract hands out (peers, dead letters, sync state) live here too, and their
 * producers (p2p/, delivery/) import them from here.
 */

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
  sync?: SyncState
  /** sequences refused by this node's trust policy, by reason and per origin (bounded) */
  refusals?: unknown
  /** what each peer handed this node (bounded, most recently heard first) */
  peerStats?: unknown
  /** the community this node is one node of (config `community.manifest`) and its sink lease */
  community?: {
    id: string
    name: string
    /** node peer IDs in manifest order */
    nodes: string[]
    /** with sibling nodes: whether this node runs the webhooks and triggers, who does, who is alive */
    lease?: { holding: boolean, holder?: string, live: string[], handled: Record<string, number> }
  }
  /** the hooks listener's URL while it listens */
  hooksUrl?: string
  /** tool webhook sources and their delivery counts since start */
  sources?: Array<{ name: string, kind: string, origin: 'config' | 'api', status: 'active' | 'unavailable' } & HookCounts>
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

export type { SourceInput }

/** A tool webhook source as the API shows it: where its secret is read from, never the secret. */
export interface SourceView extends Source {
  /** `unavailable` when its secret could not be read at start (`problem` says why): deliveries get 404 */
  status: 'active' | 'unavailable'
  problem?: string
  /** deliveries since the node started; `received` is the sum of the others */
  counts: HookCounts
}

/** POST /v1/sources/{name}/test: a payload as the tool would send it. */
export interface SourceTestInput {
  /** the raw body, as text */
  body: string
  /** header names as the tool sends them (case does not matter) */
  headers: Record<string, string>
}

/** What a payload would become: the CDEvents, or why none. */
export type SourceTestResult = { events: CDEvent[] } | { ignored: string }


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
  traceChain(chainId: string, options?: ResolveOption): Promise<TraceGraph>
  /** GET /v1/events/{digest}/trace: the bounded graph around one event; undefined when it is not held */
  traceEvent(digest: string, options: TraceOptions & ResolveOption): Promise<TraceGraph | undefined>
  /** GET /v1/artifacts/{purl}: one artifact across communities, with its confidence summary */
  artifact(purl: string, options?: ResolveOption): Promise<ArtifactView>
  /** Called for every newly stored event, in store order; returns the unsubscribe function. */
  onStored(listener: (stored: StoredEvent) => void): () => void

  trustMode(): TrustMode
  listTrust(): TrustEntry[]
  addTrust(entry: Omit<TrustEntry, 'classes'> & { classes?: string[] }): Promise<TrustEntry>
  /** by peer ID or name; false when absent */
  removeTrust(peerIdOrName: string): Promise<boolean>
  /** a community's signed manifest chain; throws CDG_INVALID_MANIFEST (forged, malformed, forked), CDG_STALE_MANIFEST, CDG_INVALID_REQUEST (a community not held here) */
  publishCommunityChain(chain: unknown): Promise<CommunityPublishResult>
  /** the communities whose manifests the node holds */
  listCommunities(): CommunityView[]

  listSubscriptions(): Subscription[]
  getSubscription(id: string): Subscription | undefined
  addSubscription(input: SubscriptionInput): Promise<Subscription>
  removeSubscription(id: string): Promise<boolean>
  listDeadLetters(subscriptionId: string): Promise<DeadLetter[]>
  /** re-queue dead letters (all, or the given digests); returns how many were re-queued */
  redriveDeadLetters(subscriptionId: string, digests?: string[]): Promise<number>
  /** drop dead letters for good (all, or the given digests), so a paused subscription delivers again; returns how many */
  discardDeadLetters(subscriptionId: string, digests?: string[]): Promise<number>

  peers(): PeerInfo[]

  /** tool webhook sources: the config file's and those added over the API */
  listSources(): SourceView[]
  /** validated, its secret read (400 when it cannot be), persisted; the hooks listener starts if it was off */
  addSource(input: SourceInput): Promise<SourceView>
  /** false when absent; config file sources cannot be removed (400); the listener stops with the last source */
  removeSource(name: string): Promise<boolean>
  /** the source's translation of a payload, with its settings; no credential check, nothing published */
  testSource(name: string, input: SourceTestInput): Promise<SourceTestResult>

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

/**
 * How a connection came about: a bootstrap entry, peer exchange (`discovery`), a peer connected
 * before (`remembered`: the peers file, or earlier in this run), mDNS, the peer dialling us
 * (`inbound`), or any other dial (`dial`: the API, libp2p's own redials).
 */
export type ConnectionVia = 'bootstrap' | 'discovery' | 'remembered' | 'mdns' | 'inbound' | 'dial'

export interface PeerInfo {
  peerId: string
  addresses: string[]
  /** topics the peer announced that we also joined */
  topics: string[]
  /** ISO time the current connection was established */
  connectedSince?: string
  via?: ConnectionVia
  /** the error of the last failed dial of this peer since this node started (it may have succeeded since) */
  lastDialError?: string
}

/**
 * An event a webhook receiver could not take: it is skipped so later events flow, and kept here
 * until it is re-driven or discarded.
 */
export interface DeadLetter {
  digest: string
  cursor: string
  /** attempts over every round (first delivery and each re-drive) */
  attempts: number
  /** HTTP status of the last attempt; absent for network errors and timeouts */
  lastStatus?: number
  lastError?: string
  /** ISO time it was dead-lettered (last round) */
  failedAt: string
}

export interface SyncPeerState {
  peerId: string
  /** ISO time of the last successful exchange */
  lastSyncAt?: string
  /** error code of the last failure, cleared by a success */
  lastError?: string
  score: number
  /** range requests to this peer in flight */
  inFlight: number
  /** ISO time before which the peer is skipped */
  backoffUntil?: string
}

export interface SyncState {
  peers: SyncPeerState[]
  /** sequences the node asked for through requestGap that no peer has supplied yet */
  gaps: number
  /** records fetched and stored */
  fetched: number
  /** records fetched that were already held */
  duplicates: number
  /** records fetched, verified and passed on but not stored (no subscription wants them) */
  relayed: number
  /** genuine records this node's trust policy refused */
  refused: number
  /** records refused by receiveRecord as invalid (forged, malformed, conflicting…) or not the ones requested */
  rejected: number
}
