import { TopicValidatorResult } from '@libp2p/interface'
import { isCdgossipError } from '../errors.js'
import { MAX_RECORD_BYTES } from './gossip-options.js'
import { verdictFor } from './verdict.js'
import type { GossipCounterSet } from './counters.js'
import { decodeRecordFrame, isRecordFrame } from './record-frame.js'
import type { P2PComponents, ReceiveOutcome } from './types.js'
import type { EventClass } from '../events/types.js'
import type { Message, PeerId, TopicValidatorFn } from '@libp2p/interface'
import type { Logger } from 'pino'

export interface TopicValidatorComponents {
  receiveRecord: P2PComponents['receiveRecord']
  receiveFrame: P2PComponents['receiveFrame']
  counters: GossipCounterSet
  log?: Logger
}

export interface TopicValidatorInit {
  /** the class the topic names; the receive path checks the record against it */
  eventClass: EventClass
  /** the largest message, a record or a frame of them (which has its own, smaller bound); @default MAX_RECORD_BYTES */
  maxRecordBytes?: number
}

/**
 * The gossipsub validator of one topic. The whole receive path (decode, verify, validate, trust,
 * store) runs before the verdict, so gossipsub forwards only what this node checked, and a record
 * is stored before anyone hears it from us. Relayed records are Accepted too: forwarding them is
 * why the node joined the topic; unless the receive path marks one `forward: false` (an untrusted
 * origin over its relay budget), which is Ignored.
 *
 * A frame (record-frame.ts) is Rejected when it is malformed or any record in it is objectively
 * invalid: whoever sent it passed on a forgery. Otherwise it is Accepted (forwarded as it is) when
 * any of its records would be on its own and none is over an untrusted origin's relay budget, else
 * Ignored; records refused by this node's policy are refused one by one as they would be alone.
 */
export function createTopicValidator (components: TopicValidatorComponents, init: TopicValidatorInit): TopicValidatorFn {
  const { receiveRecord, receiveFrame, counters, log } = components
  const { eventClass } = init
  const maxRecordBytes = init.maxRecordBytes ?? MAX_RECORD_BYTES

  const count = (err: unknown, from: string): TopicValidatorResult => {
    const verdict = verdictFor(err)
    if (isCdgossipError(err)) {
      counters.countReceived(`${verdict}:${err.code}`)
    } else {
      counters.countReceived(`${verdict}:unexpected`)
      log?.debug({ err, from, eventClass }, 'receive path failed with a non-cdgossip error')
    }
    return verdict
  }

  /** The verdict a received record earns on its own; counted. */
  const verdictOf = (outcome: ReceiveOutcome): TopicValidatorResult => {
    if (outcome.status === 'relayed' && outcome.forward === false) {
      // genuine, but the receive path will not carry it further: neither forwarded nor penalised
      counters.countReceived(`${TopicValidatorResult.Ignore}:relay-limited`)
      return TopicValidatorResult.Ignore
    }
    counters.countReceived(outcome.status)
    return outcome.status === 'duplicate' ? TopicValidatorResult.Ignore : TopicValidatorResult.Accept
  }

  return async (peer: PeerId, message: Message): Promise<TopicValidatorResult> => {
    // before any decoding: the sender either skipped its own cap or is hostile
    if (message.data.byteLength > maxRecordBytes) {
      counters.countReceived(`${TopicValidatorResult.Reject}:CDG_EVENT_TOO_LARGE`)
      return TopicValidatorResult.Reject
    }
    const from = peer.toString()
    const context = { expectedClass: eventClass, from, via: 'gossip' } as const
    try {
      if (!isRecordFrame(message.data)) return verdictOf(await receiveRecord(message.data, context))
      const outcomes = await receiveFrame(decodeRecordFrame(message.data), context)
      // all genuine: the frame travels on (as it is) when any record of it would on its own, and
      // none is one the receive path will not carry further (over an untrusted origin's budget)
      let verdict: TopicValidatorResult = TopicValidatorResult.Ignore
      let limited = false
      for (const outcome of outcomes) {
        const own = outcome.status === 'refused' ? count(outcome.error, from) : verdictOf(outcome)
        if (own === TopicValidatorResult.Accept) verdict = own
        if (outcome.status === 'relayed' && outcome.forward === false) limited = true
      }
      return limited ? TopicValidatorResult.Ignore : verdict
    } catch (err) {
      return count(err, from)
    }
  }
}
