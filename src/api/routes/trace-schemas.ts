import { BEARER_SECURITY, COMMON_ERROR_STATUSES, DIGEST_PATTERN, MAX_TEXT_LENGTH, errorResponses } from '../schemas.js'
import { DEFAULT_TRACE_DEPTH, MAX_PURL_LENGTH, MAX_TRACE_DEPTH, MAX_TRACE_NODES } from '../../contracts/trace.js'
import type { ResolveOption } from '../../contracts/trace.js'

const S = { type: 'string' } as const

const NODE = {
  type: 'object',
  required: ['id', 'resolved'],
  properties: {
    id: { type: 'string', description: 'the digest of a held event; `unresolved:…` for what this node does not hold' },
    resolved: { type: 'boolean', description: 'false: a link or field names an event or entity this node does not hold' },
    fetched: { type: 'boolean', description: 'true: held because `resolve=true` fetched it from a peer (fetched-for-trace, never delivered to subscriptions)' },
    digest: { type: 'string', pattern: DIGEST_PATTERN },
    type: S,
    eventClass: S,
    source: { type: 'string', description: 'context.source (for an unresolved link: the source it names, when it names one)' },
    contextId: { type: 'string', description: 'context.id (for an unresolved link: the id it names)' },
    subject: S,
    chainId: S,
    origin: { type: 'string', description: 'peer ID of the signer' },
    community: { type: 'string', description: 'the origin\'s trust name' },
    time: { type: 'string', description: 'context.timestamp' },
    outcome: S,
    entity: { type: 'object', required: ['type', 'id'], properties: { type: S, id: S }, description: 'an unresolved entity reference' }
  }
} as const

const EDGE = {
  type: 'object',
  required: ['from', 'to', 'kind', 'via'],
  properties: {
    from: { type: 'string', description: 'the upstream node' },
    to: { type: 'string', description: 'the downstream node' },
    kind: { type: 'string', enum: ['path', 'relation', 'entity'] },
    via: { type: 'string', description: 'the link type (PATH, END), the relation\'s linkKind, or the field (artifactId, environment, …)' }
  }
} as const

const REF = {
  type: 'object',
  required: ['kind', 'id'],
  properties: {
    kind: { type: 'string', enum: ['context', 'entity', 'chain'] },
    id: { type: 'string', description: 'the context id, the entity\'s subject id, or the chainId' },
    source: { type: 'string', description: 'context references: the source the link named' },
    type: { type: 'string', description: 'entity references: the subject type (artifact, environment, …)' },
    referrers: { type: 'boolean', description: 'entity references: the events that name the entity were asked for too' }
  }
} as const

const RESOLUTION = {
  type: 'object',
  description: 'present with resolve=true: what was fetched from peers, and what stayed unresolved',
  required: ['fetched', 'peers', 'rounds', 'unresolved', 'refused', 'truncated'],
  properties: {
    fetched: { type: 'integer', description: 'records fetched and stored as fetched-for-trace' },
    peers: { type: 'array', items: S, description: 'peer IDs that supplied them' },
    rounds: { type: 'integer' },
    unresolved: { type: 'array', items: REF, description: 'references no peer answered with an acceptable record' },
    refused: {
      type: 'array',
      description: 'records a peer sent that were not stored: CDG_UNTRUSTED_SIGNER (this node\'s trust refuses the signer), or why they were invalid',
      items: { type: 'object', required: ['from', 'code'], properties: { from: S, code: S, origin: S } }
    },
    truncated: { type: 'boolean', description: 'a bound (references, rounds, time) ended the resolution early' }
  }
} as const

const GRAPH = {
  type: 'object',
  required: ['nodes', 'edges', 'truncated'],
  properties: {
    root: { type: 'string' },
    nodes: { type: 'array', items: NODE },
    edges: { type: 'array', items: EDGE },
    truncated: { type: 'boolean', description: `true when a bound (${MAX_TRACE_NODES} nodes) left out what is held` },
    resolution: RESOLUTION
  }
} as const

const RESOLVE = {
  type: 'boolean',
  default: false,
  description: 'first fetch what the graph leaves unresolved from connected peers (bounded in references, rounds and time; see the README, Resolving links)'
} as const

const RESOLVE_QUERYSTRING = { type: 'object', additionalProperties: false, properties: { resolve: RESOLVE } } as const

export interface ChainParams { chainId: string }
export interface TraceQuerystring extends ResolveOption { direction?: 'up' | 'down' | 'both', depth?: number }
export interface PurlParams { purl: string }
export type ResolveQuerystring = ResolveOption

export const GET_CHAIN_SCHEMA = {
  tags: ['trace'],
  summary: 'Every held event of a chain and the edges between them (links, entity references); links to events not held appear as unresolved nodes',
  security: BEARER_SECURITY,
  params: {
    type: 'object',
    required: ['chainId'],
    properties: { chainId: { type: 'string', minLength: 1, maxLength: MAX_TEXT_LENGTH } }
  },
  querystring: RESOLVE_QUERYSTRING,
  response: { 200: GRAPH, ...errorResponses(...COMMON_ERROR_STATUSES) }
} as const

export const GET_TRACE_SCHEMA = {
  tags: ['trace'],
  summary: 'The bounded graph around one event: what it came from (up), what came from it (down), or both',
  security: BEARER_SECURITY,
  params: {
    type: 'object',
    required: ['digest'],
    properties: { digest: { type: 'string', pattern: DIGEST_PATTERN } }
  },
  querystring: {
    type: 'object',
    additionalProperties: false,
    properties: {
      direction: { type: 'string', enum: ['up', 'down', 'both'], default: 'both' },
      depth: { type: 'integer', minimum: 0, maximum: MAX_TRACE_DEPTH, default: DEFAULT_TRACE_DEPTH, description: 'steps followed in each direction' },
      resolve: RESOLVE
    }
  },
  response: { 200: GRAPH, ...errorResponses(...COMMON_ERROR_STATUSES, 404) }
} as const

const TEST_RUN = {
  type: 'object',
  required: ['digest', 'community', 'origin', 'suite', 'eventClass'],
  properties: { digest: S, community: S, origin: S, suite: S, eventClass: S, outcome: S, environment: S, time: S }
} as const

const DEPLOYMENT = {
  type: 'object',
  required: ['digest', 'community', 'origin', 'eventClass', 'service'],
  properties: { digest: S, community: S, origin: S, eventClass: S, service: S, environment: S, time: S }
} as const

const CONFIDENCE = {
  type: 'object',
  required: ['community', 'passed', 'failed', 'latest'],
  properties: {
    community: { type: 'string', description: 'the trust name of the origin that signed the test runs (its peer ID without one)' },
    passed: { type: 'integer' },
    failed: { type: 'integer' },
    latest: {
      type: 'object',
      required: ['outcome', 'suite', 'digest'],
      properties: { outcome: S, suite: S, time: S, digest: S }
    }
  }
} as const

export const GET_ARTIFACT_SCHEMA = {
  tags: ['trace'],
  summary: 'One artifact (Package URL, URL-encoded) across communities: lifecycle, builds and changes upstream, test runs, deployments and the confidence summary',
  security: BEARER_SECURITY,
  params: {
    type: 'object',
    required: ['purl'],
    properties: { purl: { type: 'string', minLength: 1, maxLength: MAX_PURL_LENGTH } }
  },
  querystring: RESOLVE_QUERYSTRING,
  response: {
    200: {
      type: 'object',
      required: ['purl', 'lifecycle', 'builds', 'changes', 'tests', 'deployments', 'confidence', 'truncated'],
      properties: {
        purl: S,
        lifecycle: { type: 'array', items: NODE, description: 'artifact events of this purl, oldest first' },
        builds: { type: 'array', items: NODE },
        changes: { type: 'array', items: NODE },
        tests: { type: 'array', items: TEST_RUN, description: 'newest first' },
        deployments: { type: 'array', items: DEPLOYMENT, description: 'newest first' },
        confidence: { type: 'array', items: CONFIDENCE, description: 'the quality stamp: per community, newest verdict first' },
        truncated: { type: 'boolean' },
        resolution: RESOLUTION
      }
    },
    ...errorResponses(...COMMON_ERROR_STATUSES)
  }
} as const
