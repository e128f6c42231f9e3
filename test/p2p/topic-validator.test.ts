import { Writable } from 'node:stream'
import { generateKeyPair } from '@libp2p/crypto/keys'
import { TopicValidatorResult } from '@libp2p/interface'
import { peerIdFromPrivateKey } from '@libp2p/peer-id'
import { pino } from 'pino'
import { describe, expect, it } from 'vitest'
import { CdgossipError } from '../../src/errors.js'
import { createTopicValidator, encodeRecordFrame, GossipCounterSet, MAX_RECORD_BYTES } from '../../src/p2p/index.js'
import type { SignedEvent } from '../../src/events/types.js'
import type { FrameRecordOutcome, ReceiveContext, ReceiveOutcome } from '../../src/p2p/index.js'
import type { Message, PeerId } from '@libp2p/interface'

const CLASS = 'build.started'
const TOPIC = `cdgossip/testnet/${CLASS}`
const EVENT = {} as unknown as SignedEvent

function message (data: Uint8Array): Message {
  return { type: 'unsigned', topic: TOPIC, data }
}

async function noFrames (): Promise<never> {
  throw new Error('no frame expected')
}

async function peer (): Promise<PeerId> {
  return peerIdFromPrivateKey(await generateKeyPair('Ed25519'))
}

describe('createTopicValidator', () => {
  it('hands the bytes to the receive path and turns its outcome or error into a verdict', async () => {
    const from = await peer()
    const seen: Array<{ bytes: Uint8Array, context: ReceiveContext }> = []
    let next: () => Promise<ReceiveOutcome> = async () => ({ status: 'stored', event: EVENT })
    const counters = new GossipCounterSet()
    const lines: string[] = []
    const log = pino({ level: 'debug' }, new Writable({ write (chunk, _enc, done) { lines.push(String(chunk)); done() } }))
    const validate = createTopicValidator({
      receiveRecord: async (bytes, context) => { seen.push({ bytes, context }); return await next() },
      receiveFrame: noFrames,
      counters,
      log
    }, { eventClass: CLASS })

    const bytes = new Uint8Array([1, 2, 3])
    expect(await validate(from, message(bytes))).toBe(TopicValidatorResult.Accept)
    expect(seen).toEqual([{ bytes, context: { expectedClass: CLASS, from: from.toString(), via: 'gossip' } }])

    next = async () => ({ status: 'relayed', event: EVENT })
    expect(await validate(from, message(bytes))).toBe(TopicValidatorResult.Accept)
    next = async () => ({ status: 'duplicate', event: EVENT })
    expect(await validate(from, message(bytes))).toBe(TopicValidatorResult.Ignore)
    // verified, but the receive path says not to forward it (an untrusted origin over its relay budget)
    next = async () => ({ status: 'relayed', event: EVENT, forward: false })
    expect(await validate(from, message(bytes))).toBe(TopicValidatorResult.Ignore)
    next = async () => { throw new CdgossipError('CDG_BAD_SIGNATURE', 'forged') }
    expect(await validate(from, message(bytes))).toBe(TopicValidatorResult.Reject)
    next = async () => { throw new CdgossipError('CDG_UNTRUSTED_SIGNER', 'stranger') }
    expect(await validate(from, message(bytes))).toBe(TopicValidatorResult.Ignore)
    next = async () => { throw new CdgossipError('CDG_DUPLICATE_EVENT', 'again') }
    expect(await validate(from, message(bytes))).toBe(TopicValidatorResult.Ignore)
    next = async () => { throw new CdgossipError('CDG_STORE', 'disk full') }
    expect(await validate(from, message(bytes))).toBe(TopicValidatorResult.Ignore)
    expect(lines).toHaveLength(0)
    next = async () => { throw new TypeError('a bug') }
    expect(await validate(from, message(bytes))).toBe(TopicValidatorResult.Ignore)
    expect(lines).toHaveLength(1)
    expect(JSON.parse(lines[0] as string)).toMatchObject({ level: 20, from: from.toString(), eventClass: CLASS, err: { type: 'TypeError' } })

    expect(counters.snapshot()).toEqual({
      published: 0,
      received: {
        stored: 1,
        relayed: 1,
        duplicate: 1,
        'ignore:relay-limited': 1,
        'reject:CDG_BAD_SIGNATURE': 1,
        'ignore:CDG_UNTRUSTED_SIGNER': 1,
        'ignore:CDG_DUPLICATE_EVENT': 1,
        'ignore:CDG_STORE': 1,
        'ignore:unexpected': 1
      }
    })
  })

  it('rejects an oversize record without running the receive path', async () => {
    let calls = 0
    const counters = new GossipCounterSet()
    const validate = createTopicValidator({
      receiveRecord: async () => { calls++; return { status: 'stored', event: EVENT } },
      receiveFrame: noFrames,
      counters
    }, { eventClass: CLASS })
    const from = await peer()
    expect(await validate(from, message(new Uint8Array(MAX_RECORD_BYTES + 1)))).toBe(TopicValidatorResult.Reject)
    expect(await validate(from, message(new Uint8Array(MAX_RECORD_BYTES)))).toBe(TopicValidatorResult.Accept)
    expect(calls).toBe(1)
    expect(counters.snapshot().received).toEqual({ 'reject:CDG_EVENT_TOO_LARGE': 1, stored: 1 })

    const small = createTopicValidator({ receiveRecord: async () => ({ status: 'stored', event: EVENT }), receiveFrame: noFrames, counters }, { eventClass: CLASS, maxRecordBytes: 4 })
    expect(await small(from, message(new Uint8Array(5)))).toBe(TopicValidatorResult.Reject)
  })

  it('hands a frame\'s records to the receive path together: Reject for any invalid record, else Accept when any would travel on and none is over the relay budget', async () => {
    const from = await peer()
    const counters = new GossipCounterSet()
    const seen: Array<{ records: readonly Uint8Array[], context: ReceiveContext }> = []
    let next: () => Promise<FrameRecordOutcome[]> = async () => []
    const validate = createTopicValidator({
      receiveRecord: async () => { throw new Error('a frame is not one record') },
      receiveFrame: async (records, context) => { seen.push({ records, context }); return await next() },
      counters
    }, { eventClass: CLASS })
    const records = [new Uint8Array([0x7b, 1]), new Uint8Array([0x7b, 2, 3])]
    const frame = encodeRecordFrame(records)
    const untrusted = new CdgossipError('CDG_UNTRUSTED_SIGNER', 'stranger')

    next = async () => [{ status: 'stored', event: EVENT }, { status: 'refused', error: untrusted }]
    expect(await validate(from, message(frame))).toBe(TopicValidatorResult.Accept)
    expect(seen).toEqual([{ records, context: { expectedClass: CLASS, from: from.toString(), via: 'gossip' } }])
    next = async () => [{ status: 'duplicate', event: EVENT }, { status: 'relayed', event: EVENT, forward: false }]
    expect(await validate(from, message(frame))).toBe(TopicValidatorResult.Ignore)
    next = async () => [{ status: 'refused', error: untrusted }, { status: 'relayed', event: EVENT }]
    expect(await validate(from, message(frame))).toBe(TopicValidatorResult.Accept)
    // a record over an untrusted origin's relay budget keeps the whole frame here
    next = async () => [{ status: 'stored', event: EVENT }, { status: 'relayed', event: EVENT, forward: false }]
    expect(await validate(from, message(frame))).toBe(TopicValidatorResult.Ignore)
    next = async () => { throw new CdgossipError('CDG_BAD_SIGNATURE', 'one forged record') }
    expect(await validate(from, message(frame))).toBe(TopicValidatorResult.Reject)

    // a malformed frame never reaches the receive path
    const truncated = frame.subarray(0, frame.byteLength - 1)
    expect(await validate(from, message(truncated))).toBe(TopicValidatorResult.Reject)
    expect(seen).toHaveLength(5)
    expect(counters.snapshot().received).toEqual({
      stored: 2,
      relayed: 1,
      duplicate: 1,
      'ignore:relay-limited': 2,
      'ignore:CDG_UNTRUSTED_SIGNER': 2,
      'reject:CDG_BAD_SIGNATURE': 1,
      'reject:CDG_INVALID_CLOUDEVENT': 1
    })
  })
})
