import { BEARER_SECURITY, COMMON_ERROR_STATUSES, errorResponses } from '../schemas.js'

/** Open to additions: the node may report more than this (store size, sync state details). */
const NODE_INFO = {
  type: 'object',
  additionalProperties: true,
  required: ['peerId', 'network', 'version', 'listenAddresses', 'topics', 'peers', 'counters', 'trustMode', 'store'],
  properties: {
    peerId: { type: 'string', description: 'this community\'s peer ID: the keyid of everything it signs' },
    network: { type: 'string' },
    version: { type: 'string' },
    apiUrl: { type: 'string' },
    listenAddresses: { type: 'array', items: { type: 'string' } },
    topics: { type: 'array', items: { type: 'string' } },
    peers: { type: 'integer', minimum: 0 },
    counters: { type: 'object', additionalProperties: { type: 'number' }, description: 'gossip and sync outcome counters' },
    trustMode: { type: 'string', enum: ['allowlist', 'open'] },
    store: {
      type: 'object',
      additionalProperties: true,
      required: ['events'],
      properties: { events: { type: 'integer', minimum: 0 } }
    },
    sync: { description: 'sync state, shape owned by the node' },
    community: {
      type: 'object',
      description: 'the community this node is one node of (config community.manifest)',
      additionalProperties: true,
      required: ['id', 'name', 'nodes'],
      properties: {
        id: { type: 'string', description: 'the community id: its genesis root key' },
        name: { type: 'string' },
        nodes: { type: 'array', items: { type: 'string' }, description: 'node peer IDs in manifest order' },
        lease: {
          type: 'object',
          description: 'with sibling nodes: the sink lease (webhooks and triggers run on its holder only)',
          additionalProperties: true,
          required: ['holding', 'live', 'handled'],
          properties: {
            holding: { type: 'boolean', description: 'whether this node runs the webhooks and triggers now' },
            holder: { type: 'string', description: 'the node this one believes holds the lease' },
            live: { type: 'array', items: { type: 'string' }, description: 'sibling nodes heard from within three heartbeats' },
            handled: { type: 'object', additionalProperties: { type: 'integer' }, description: 'per webhook/trigger subscription id: records some node of the community delivered or passed over (what a takeover skips)' }
          }
        }
      }
    },
    hooksUrl: { type: 'string', description: 'the hooks listener, while it listens (while a source exists)' },
    sources: {
      type: 'array',
      description: 'tool webhook sources and their deliveries since start; received is the sum of the others',
      items: {
        type: 'object',
        additionalProperties: true,
        properties: {
          name: { type: 'string' },
          kind: { type: 'string' },
          origin: { type: 'string', enum: ['config', 'api'] },
          status: { type: 'string', enum: ['active', 'unavailable'] },
          ...Object.fromEntries(['received', 'published', 'ignored', 'refused', 'failed', 'limited'].map(k => [k, { type: 'integer', minimum: 0 }]))
        }
      }
    },
    refusals: {
      type: 'object',
      additionalProperties: true,
      description: 'sequences this node refused by its own trust policy: known, not sync gaps; forgotten (and fetched again) when the policy changes',
      properties: {
        sequences: { type: 'integer', minimum: 0 },
        reasons: { type: 'object', additionalProperties: { type: 'integer' }, description: 'by reason: unknown-signer, source-not-allowed, class-not-allowed, revoked-signer' },
        originCount: { type: 'integer', minimum: 0 },
        origins: {
          type: 'array',
          description: 'the most recently refused origins (at most 50)',
          items: {
            type: 'object',
            additionalProperties: true,
            properties: {
              origin: { type: 'string' },
              name: { type: 'string' },
              reasons: { type: 'object', additionalProperties: { type: 'integer' } },
              classes: { type: 'array', items: { type: 'string' } },
              lastSource: { type: 'string' },
              lastAt: { type: 'string' }
            }
          }
        }
      }
    },
    peerStats: {
      type: 'array',
      description: 'records each peer handed this node by gossip and sync (at most 50 peers, most recently heard first)',
      items: {
        type: 'object',
        additionalProperties: true,
        properties: {
          peerId: { type: 'string' },
          name: { type: 'string' },
          connected: { type: 'boolean' },
          gossipScore: { type: 'number', description: 'gossipsub score this node gives the peer (negative: penalised)' },
          received: { type: 'integer' },
          stored: { type: 'integer' },
          duplicates: { type: 'integer' },
          relayed: { type: 'integer' },
          rejected: { type: 'integer', description: 'invalid for every node' },
          refused: { type: 'integer', description: 'genuine, refused by this node\'s trust policy' },
          lastReject: {
            type: 'object',
            additionalProperties: true,
            properties: { code: { type: 'string' }, at: { type: 'string' }, origin: { type: 'string' }, eventClass: { type: 'string' } }
          },
          lastAt: { type: 'string' }
        }
      }
    }
  }
}

export const GET_NODE_SCHEMA = {
  tags: ['node'],
  summary: 'This node: identity, network, topics, counters',
  security: BEARER_SECURITY,
  response: { 200: NODE_INFO, ...errorResponses(...COMMON_ERROR_STATUSES) }
}
