import { InvalidEventClassError } from './errors.js'
import { parseTopic, topicFor } from '../events/index.js'

/** Longer topic strings are refused outright; real ones are ~60 characters. */
export const MAX_TOPIC_LENGTH = 256
/**
 * Distinct topics of this network whose peer subscriptions we track, beyond our own. Gossipsub
 * keeps state per announced topic forever, so an unbounded allow-list lets one peer grow our
 * memory by announcing made-up classes. 1,024 covers the 45 standard classes many times over.
 */
export const MAX_KNOWN_TOPICS = 1024

/** The topic of `eventClass` in `network`, or InvalidEventClassError when the class cannot name one. */
export function topicForClass (network: string, eventClass: string): string {
  let topic: string
  try {
    topic = topicFor(network, eventClass)
  } catch {
    // topicFor treats a bad class as a bug (RangeError); here it is caller input
    throw new InvalidEventClassError(eventClass)
  }
  const parsed = parseTopic(topic)
  if (topic.length > MAX_TOPIC_LENGTH || parsed?.network !== network || parsed.eventClass !== eventClass) {
    throw new InvalidEventClassError(eventClass)
  }
  return topic
}

/**
 * Gossipsub's `allowedTopics`, as a bounded prefix match: the topics of this network (canonical
 * form only) and no other. Remote subscriptions and messages on other topics are dropped before
 * they create state. Our own topics always pass, even once the bound is reached.
 */
export class TopicAllowList {
  private readonly own = new Set<string>()
  private readonly known = new Set<string>()

  constructor (private readonly network: string, private readonly maxKnownTopics: number = MAX_KNOWN_TOPICS) {}

  has (topic: string): boolean {
    if (this.own.has(topic) || this.known.has(topic)) return true
    if (topic.length > MAX_TOPIC_LENGTH) return false
    const parsed = parseTopic(topic)
    // parseTopic accepts only well-formed classes, and a topic of ours has exactly one spelling
    if (parsed?.network !== this.network || topicFor(parsed.network, parsed.eventClass) !== topic) return false
    if (this.known.size >= this.maxKnownTopics) return false
    this.known.add(topic)
    return true
  }

  addOwn (topic: string): void {
    this.own.add(topic)
  }
}
