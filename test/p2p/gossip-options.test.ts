import { createHash } from 'node:crypto'
import { generateKeyPair } from '@libp2p/crypto/keys'
import { peerIdFromPrivateKey } from '@libp2p/peer-id'
import { createPeerScoreParams, createPeerScoreThresholds, validatePeerScoreParams, validatePeerScoreThresholds, validateTopicScoreParams } from '@chainsafe/libp2p-gossipsub/score'
import { describe, expect, it } from 'vitest'
import {
  MAX_INBOUND_DATA_LENGTH,
  MAX_RECORD_BYTES,
  MAX_KNOWN_TOPICS,
  DECODE_RPC_LIMITS,
  IDONTWANT_MIN_BYTES,
  MAX_FRAME_BYTES,
  SCORE_THRESHOLDS,
  TOPIC_SCORE_PARAMS,
  TopicAllowList,
  messageId,
  topicForClass
} from '../../src/p2p/index.js'
import { gossipsubOptions } from '../../src/p2p/gossip-options.js'
import { artifactPublished } from '../helpers/nodes.js'
import { signRecord } from '../helpers/records.js'

describe('gossip parameters', () => {
  it('are accepted by gossipsub\'s own validation', () => {
    expect(() => { validateTopicScoreParams({ ...TOPIC_SCORE_PARAMS }) }).not.toThrow()
    expect(() => { validatePeerScoreParams(createPeerScoreParams({ topics: { t: { ...TOPIC_SCORE_PARAMS } } })) }).not.toThrow()
    expect(() => { validatePeerScoreThresholds(createPeerScoreThresholds({ ...SCORE_THRESHOLDS })) }).not.toThrow()
  })

  it('let one forgery outweigh what an honest peer earns on five topics, down to the graylist', () => {
    const p = TOPIC_SCORE_PARAMS
    const bestPerTopic = p.topicWeight * (p.timeInMeshWeight * p.timeInMeshCap + p.firstMessageDeliveriesWeight * p.firstMessageDeliveriesCap)
    const oneForgery = p.topicWeight * p.invalidMessageDeliveriesWeight
    expect(5 * bestPerTopic + oneForgery).toBeLessThan(SCORE_THRESHOLDS.graylistThreshold)
    expect(45 * bestPerTopic + oneForgery).toBeLessThan(0)
    expect(p.meshMessageDeliveriesWeight).toBe(0)
    expect(p.meshFailurePenaltyWeight).toBe(0)
  })

  it('leave frame headroom above the record cap and bound decoding', () => {
    expect(MAX_INBOUND_DATA_LENGTH).toBeGreaterThan(MAX_RECORD_BYTES)
    for (const limit of Object.values(DECODE_RPC_LIMITS)) expect(Number.isFinite(limit)).toBe(true)
    expect(DECODE_RPC_LIMITS.maxSubscriptions).toBeGreaterThanOrEqual(MAX_KNOWN_TOPICS)
  })

  it('send IDONTWANT for frames of many records, not for a single record', async () => {
    const privateKey = await generateKeyPair('Ed25519')
    const record = signRecord(artifactPublished(), { privateKey, peerId: peerIdFromPrivateKey(privateKey).toString() }, 1)
    const options = gossipsubOptions({ heartbeatIntervalMs: 1000, ipColocationWeight: 0 })
    expect(options.idontwantMinDataSize).toBe(IDONTWANT_MIN_BYTES)
    expect(record.byteLength * 4).toBeLessThan(IDONTWANT_MIN_BYTES)
    expect(IDONTWANT_MIN_BYTES * 4).toBeLessThan(MAX_FRAME_BYTES)
  })

  it('name a message by the sha256 of its bytes', () => {
    const data = new TextEncoder().encode('record')
    expect(Buffer.from(messageId({ data })).toString('hex')).toBe(createHash('sha256').update(data).digest('hex'))
  })
})

describe('TopicAllowList', () => {
  it('allows this network\'s well-formed topics only', () => {
    const allow = new TopicAllowList('testnet')
    expect(allow.has('cdgossip/testnet/pipelinerun.finished')).toBe(true)
    expect(allow.has('cdgossip/testnet/x.mytool-resource.created')).toBe(true)
    expect(allow.has('cdgossip/othernet/pipelinerun.finished')).toBe(false)
    expect(allow.has('cdgossip/testnet/not-a-class')).toBe(false)
    expect(allow.has('cdgossip/testnet/pipelinerun.finished/extra')).toBe(false)
    expect(allow.has('/meshsub/1.1.0')).toBe(false)
    expect(allow.has(`cdgossip/testnet/x.${'a'.repeat(300)}-b.c`)).toBe(false)
  })

  it('stops learning new topics at its bound, but always allows our own and those it knows', () => {
    const allow = new TopicAllowList('testnet', 2)
    expect(allow.has('cdgossip/testnet/build.queued')).toBe(true)
    expect(allow.has('cdgossip/testnet/build.started')).toBe(true)
    expect(allow.has('cdgossip/testnet/build.finished')).toBe(false)
    expect(allow.has('cdgossip/testnet/build.queued')).toBe(true)
    allow.addOwn('cdgossip/testnet/build.finished')
    expect(allow.has('cdgossip/testnet/build.finished')).toBe(true)
  })

  it('names a class\'s topic, or refuses the class with CDG_INVALID_REQUEST', () => {
    expect(topicForClass('testnet', 'change.merged')).toBe('cdgossip/testnet/change.merged')
    for (const bad of ['', 'a/b', 'nope', 'change.merged '] as const) {
      expect(() => topicForClass('testnet', bad)).toThrow(expect.objectContaining({ code: 'CDG_INVALID_REQUEST', name: 'InvalidEventClassError' }))
    }
  })
})
