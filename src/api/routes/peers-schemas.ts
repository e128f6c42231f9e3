import { BEARER_SECURITY, COMMON_ERROR_STATUSES, errorResponses } from '../schemas.js'

const PEER_INFO = {
  type: 'object',
  required: ['peerId', 'addresses', 'topics'],
  properties: {
    peerId: { type: 'string' },
    name: { type: 'string', description: 'trust name, when the peer is a listed community' },
    addresses: { type: 'array', items: { type: 'string' } },
    topics: { type: 'array', items: { type: 'string' }, description: 'topics the peer announced that this node also joined' },
    connectedSince: { type: 'string', format: 'date-time', description: 'when the current connection was established' },
    via: { type: 'string', enum: ['bootstrap', 'discovery', 'remembered', 'mdns', 'inbound', 'dial'], description: 'how the connection came about' },
    lastDialError: { type: 'string', description: 'the last failed dial of this peer since the node started (it may have succeeded since)' }
  }
}

export const GET_PEERS_SCHEMA = {
  tags: ['peers'],
  summary: 'Connected peers',
  security: BEARER_SECURITY,
  response: {
    200: { type: 'array', items: PEER_INFO },
    ...errorResponses(...COMMON_ERROR_STATUSES)
  }
}
