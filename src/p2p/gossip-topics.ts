import { TOPIC_SCORE_PARAMS } from './gossip-options.js'
import { topicForClass, type TopicAllowList } from './topic-allow-list.js'
import { createTopicValidator } from './topic-validator.js'
import type { GossipCounterSet } from './counters.js'
import type { P2PComponents } from './types.js'
import type { EventClass } from '../events/types.js'
import type { GossipSub } from '@chainsafe/libp2p-gossipsub'
import type { TopicValidatorFn } from '@libp2p/interface'
import type { Logger } from 'pino'

export interface TopicSet {
  network: string
  /** what setClasses() asked for, then the relay classes */
  classes: Iterable<EventClass>
  components: P2PComponents
  counters: GossipCounterSet
  log: Logger | undefined
  /** control topics (not event classes) and their validators: joined beside the class topics, never left */
  control: ReadonlyMap<string, TopicValidatorFn>
}

/**
 * Join exactly the topics of `classes` and leave every other; each joined topic is allowed, scored
 * and given its validator in `validators` (run by topic-validation.ts) before it is announced.
 */
export function applyTopics (pubsub: GossipSub, allowList: TopicAllowList, validators: Map<string, TopicValidatorFn>, set: TopicSet): void {
  const wanted = new Map<string, EventClass>()
  for (const eventClass of set.classes) {
    wanted.set(topicForClass(set.network, eventClass), eventClass)
  }
  for (const topic of pubsub.getTopics()) {
    if (wanted.has(topic) || set.control.has(topic)) continue
    pubsub.unsubscribe(topic)
    validators.delete(topic)
  }
  const joined = new Set(pubsub.getTopics())
  for (const [topic, eventClass] of wanted) {
    if (joined.has(topic)) continue
    allowList.addOwn(topic)
    // P4 only punishes Rejects on topics with params (P2P-NOTES); kept after leaving so
    // counters already earned keep decaying instead of vanishing
    pubsub.score.params.topics[topic] ??= { ...TOPIC_SCORE_PARAMS }
    // the validator is in place before the subscription is announced
    validators.set(topic, createTopicValidator({
      receiveRecord: set.components.receiveRecord.bind(set.components),
      receiveFrame: set.components.receiveFrame.bind(set.components),
      counters: set.counters,
      log: set.log
    }, { eventClass }))
    pubsub.subscribe(topic)
  }
  for (const [topic, validator] of set.control) {
    if (joined.has(topic)) continue
    allowList.addOwn(topic)
    // a forged manifest costs its forwarder score like a forged record
    pubsub.score.params.topics[topic] ??= { ...TOPIC_SCORE_PARAMS }
    validators.set(topic, validator)
    pubsub.subscribe(topic)
  }
}
