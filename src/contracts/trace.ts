import type { EdgeKind } from '../events/trace-references.js'

/**
 * What the node answers about traceability (NodeFacade's traceChain, traceEvent, artifact), and
 * the bounds of those answers, which the REST API's schemas state.
 */

/** Default depth of a trace: change → build → artifact → test run is three steps. */
export const DEFAULT_TRACE_DEPTH = 3
/** Deepest trace: past ten steps a graph stops being something a person reads. */
export const MAX_TRACE_DEPTH = 10
/** Most nodes in one graph; one page of a person's attention, and a bound on the reads one request makes. */
export const MAX_TRACE_NODES = 500
/** Longest Package URL taken: purls are short; this only stops a huge path parameter early. */
export const MAX_PURL_LENGTH = 2048

/** One node of a trace graph: a held event, or what a link or field names that this node does not hold. */
export interface TraceNode {
  /** the digest of a held event; `unresolved:<key>` otherwise */
  id: string
  resolved: boolean
  /** held because `?resolve=true` fetched it from a peer (fetched-for-trace: never delivered to subscriptions) */
  fetched?: boolean
  digest?: string
  type?: string
  eventClass?: string
  /** context source and id: for an unresolved link, what it names (source only when the link gave one) */
  source?: string
  contextId?: string
  subject?: string
  chainId?: string
  origin?: string
  /** the origin's trust name, when trusted by name */
  community?: string
  /** context.timestamp */
  time?: string
  /** subject.content.outcome of finished runs */
  outcome?: string
  /** an unresolved entity reference: the subject type and id it names */
  entity?: { type: string, id: string }
}

/** `from` is upstream of `to` (the build before the artifact it produced, the artifact before its test run). */
export interface TraceEdge {
  from: string
  to: string
  kind: EdgeKind
  /** the link type (PATH, END), the relation's linkKind, or the field that made the edge */
  via: string
}

export interface TraceGraph {
  /** the event the trace started from (absent for a chain) */
  root?: string
  nodes: TraceNode[]
  edges: TraceEdge[]
  /** a bound (nodes, or the events of a chain) was reached: more is held than shown */
  truncated: boolean
  /** what `?resolve=true` fetched from peers; absent without it */
  resolution?: Resolution
}

/**
 * What a node asks its peers for when it resolves a trace: an event by context id (and source,
 * when the link named one), the events of an entity (those that are it; with `referrers`, also
 * those that name it: an artifact's builds, test runs and deployments), or the events of a chain.
 * The fetch protocol's request carries a list of these.
 */
export type TraceRef =
  | { kind: 'context', id: string, source?: string }
  | { kind: 'entity', type: string, id: string, referrers?: true }
  | { kind: 'chain', id: string }

/** Why a record a peer sent was not stored (trust refused it, or it was invalid). */
export interface ResolutionRefusal {
  /** the peer that sent it */
  from: string
  /** CDG_UNTRUSTED_SIGNER for a genuine record this node's trust refuses; else why it was invalid */
  code: string
  /** the signer, once its signature verified */
  origin?: string
}

/** The outcome of `?resolve=true`. */
export interface Resolution {
  /** records fetched and stored as fetched-for-trace by this request */
  fetched: number
  /** peers that supplied them */
  peers: string[]
  /** rounds of asking (each round asks for what the previous one left unresolved) */
  rounds: number
  /** references asked for that no peer answered with an acceptable record */
  unresolved: TraceRef[]
  /** records refused (not stored), with why: a record trust refuses stays unresolved */
  refused: ResolutionRefusal[]
  /** a bound (references, rounds, time) stopped the resolution before it was done */
  truncated: boolean
}

export type TraceDirection = 'up' | 'down' | 'both'

export interface TraceOptions {
  direction?: TraceDirection
  depth?: number
}

/** `?resolve=true`: fetch what the graph leaves unresolved from peers first (bounded; see Resolution). */
export interface ResolveOption {
  resolve?: boolean
}

export interface ArtifactTestRun {
  digest: string
  community: string
  origin: string
  suite: string
  eventClass: string
  outcome?: string
  environment?: string
  time?: string
}

export interface ArtifactDeployment {
  digest: string
  community: string
  origin: string
  eventClass: string
  service: string
  environment?: string
  time?: string
}

/** What one community's tests said of the artifact: the newest run decides `latest`. */
export interface CommunityConfidence {
  community: string
  passed: number
  failed: number
  latest: { outcome: string, suite: string, time?: string, digest: string }
}

export interface ArtifactView {
  purl: string
  /** artifact.* events of this Package URL, oldest first */
  lifecycle: TraceNode[]
  /** builds that produced it and changes upstream of it */
  builds: TraceNode[]
  changes: TraceNode[]
  /** newest first */
  tests: ArtifactTestRun[]
  deployments: ArtifactDeployment[]
  /** the quality stamp: per community, newest verdict first */
  confidence: CommunityConfidence[]
  truncated: boolean
  /** what `?resolve=true` fetched from peers; absent without it */
  resolution?: Resolution
}
