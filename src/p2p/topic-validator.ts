import { TopicValidatorResult } from '@libp2p/interface'
import { isCdgossipError } from '../errors.js'
import { MAX_RECORD_BYTES } from './gossip-options.js'
import { verdictFor } from './verdict.js'
import type { GossipCounterSet } from './counters.js'
import type { P2PComponents } from './types.js'
import type { EventClass } from '../events/types.js'
import type { Message, PeerId, TopicValidatorFn } from '@libp2p/interface'
import type { Logger } from 'pino'

export interface TopicValidatorComponents {
  receiveRecord: P2PComponents['receiveRecord']
  counters: GossipCounterSet
  log?: Logger
}

export interface TopicValidatorInit {
  /** the class the topic names; the receive path checks the record against it */
  eventClass: EventClass
  /** @default MAX_RECORD_BYTES */
  maxRecordBytes?: number
}

/**
 * The gossipsub validator of one topic. The whole receive path (decode, verify, validate, trust,
 * store) runs before the verdict, so gossipsub forwards only what this node checked, and a record
 * is stored before anyone hears it from us. Relayed records are Accepted too: forwarding them is
 * why the node joined the topic; unless the receive path marks one `forward: false` (an untrusted
 * origin over its relay budget), which is Ignored.
 */
export function createTopicValidator (components: TopicValidatorComponents, init: TopicValidatorInit): TopicValidatorFn {
  const { receiveRecord, counters, log } = components
  const { eventClass } = init
  const maxRecordBytes = init.maxRecordBytes ?? MAX_RECORD_BYTES

  return async (peer: PeerId, message: Message): Promise<TopicValidatorResult> => {
    // before any decoding: the sender either skipped its own cap or is hostile
    if (message.data.byteLength > maxRecordBytes) {
      counters.countReceived(`${TopicValidatorResult.Reject}:CDG_EVENT_TOO_LARGE`)
      return TopicValidatorResult.Reject
    }
    const from = peer.toString()
    try {
      const outcome = await receiveRecord(message.data, { expectedClass: eventClass, from, via: 'gossip' })
      if (outcome.status === 'relayed' && outcome.forward === false) {
        // genuine, but the receive path will not carry it further: neither forwarded nor penalised
        counters.countReceived(`${TopicValidatorResult.Ignore}:relay-limited`)
        return TopicValidatorResult.Ignore
      }
      counters.countReceived(outcome.status)
      return outcome.status === 'duplicate' ? TopicValidatorResult.Ignore : TopicValidatorResult.Accept
    } catch (err) {
      const verdict = verdictFor(err)
      if (isCdgossipError(err)) {
        counters.countReceived(`${verdict}:${err.code}`)
      } else {
        counters.countReceived(`${verdict}:unexpected`)
        log?.debug({ err, from, eventClass }, 'receive path failed with a non-cdgossip error')
      }
      return verdict
    }
  }
}
