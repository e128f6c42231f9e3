import { BEARER_SECURITY, COMMON_ERROR_STATUSES, errorResponses } from '../schemas.js'

/**
 * The body of POST /v1/community/manifests: a chain of 66 manifests (genesis, 64 rotations, the
 * latest) fits in a few hundred KiB unless each lists hundreds of scoped nodes.
 */
export const MAX_CHAIN_BODY_BYTES = 1_048_576
/** genesis, at most 64 rotations, the latest (community/' MAX_CHAIN_LENGTH); community/ checks again */
const MAX_CHAIN_ITEMS = 66

export interface ChainBody {
  chain: unknown[]
}

const SIGNED_MANIFEST = {
  type: 'object',
  required: ['payload', 'signatures'],
  description: 'a signed manifest as `cdgossip community export` writes it; community/ verifies the rest',
  properties: {
    payload: { type: 'string', description: 'base64 of the canonical manifest JSON' },
    signatures: { type: 'array', items: { type: 'object' } }
  }
}

const COMMUNITY_NODE = {
  type: 'object',
  required: ['peerId'],
  properties: {
    peerId: { type: 'string' },
    sources: { type: 'array', items: { type: 'string' } },
    classes: { type: 'array', items: { type: 'string' } }
  }
}

const COMMUNITY = {
  type: 'object',
  required: ['id', 'name', 'version', 'issuedAt', 'rootKey', 'rootKeys', 'nodes', 'revoked', 'own'],
  properties: {
    id: { type: 'string', description: 'the genesis root key: the stable community id' },
    name: { type: 'string' },
    version: { type: 'integer' },
    issuedAt: { type: 'string', description: 'as the root key holder claims it; informative' },
    rootKey: { type: 'string', description: 'the current root key' },
    rootKeys: { type: 'array', items: { type: 'string' }, description: 'every root key of the chain, genesis first; a trust entry may name any' },
    nodes: { type: 'array', items: COMMUNITY_NODE },
    revoked: {
      type: 'array',
      items: {
        type: 'object',
        required: ['peerId', 'version', 'since'],
        properties: {
          peerId: { type: 'string' },
          version: { type: 'integer', description: 'the manifest version that revoked it' },
          reason: { type: 'string' },
          since: { type: 'string', description: 'when this node learned of it: its records arriving later are refused, older ones are flagged' }
        }
      }
    },
    own: { type: 'boolean', description: "this node's own community (config community.manifest, or published here listing this node)" }
  }
}

export const POST_CHAIN_SCHEMA = {
  tags: ['communities'],
  summary: "Hand the node a community's signed manifest chain (genesis, each rotation, the latest)",
  description: 'Kept when a trust entry names one of its root keys or it lists this node; a newer version must pass through the held current root key. 400: forged, malformed or forked off a retired root; 409: not newer than the version held.',
  security: BEARER_SECURITY,
  body: {
    type: 'object',
    additionalProperties: false,
    required: ['chain'],
    properties: { chain: { type: 'array', minItems: 1, maxItems: MAX_CHAIN_ITEMS, items: SIGNED_MANIFEST } }
  },
  response: {
    200: {
      type: 'object',
      required: ['id', 'version', 'status'],
      properties: {
        id: { type: 'string' },
        version: { type: 'integer', description: 'the version now held' },
        status: { type: 'string', enum: ['accepted', 'unchanged'] }
      }
    },
    ...errorResponses(...COMMON_ERROR_STATUSES, 409, 413)
  }
}

export const GET_COMMUNITIES_SCHEMA = {
  tags: ['communities'],
  summary: 'The communities whose manifests this node holds',
  security: BEARER_SECURITY,
  response: {
    200: { type: 'object', required: ['communities'], properties: { communities: { type: 'array', items: COMMUNITY } } },
    ...errorResponses(...COMMON_ERROR_STATUSES)
  }
}
