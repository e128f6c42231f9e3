import { rate, round, summarize, waitUntil, type LatencySummary } from './stats.js'

/**
 * Joins what the publisher saw (sent, accepted) with what each subscriber saw (arrival), by key:
 * the record digest for cdgossip, the message id for RabbitMQ. Arrivals may be reported before
 * the accept (a subscriber can be faster than the HTTP response), so both sides are kept apart
 * and joined when the figures are computed.
 */
export class DeliveryTracker {
  readonly sent = new Map<string, { sentAt: number, acceptedAt: number }>()
  readonly arrivals: Array<Map<string, number>>
  readonly subscribers: string[]

  constructor (subscribers: string[]) {
    this.subscribers = subscribers
    this.arrivals = subscribers.map(() => new Map())
  }

  accepted (key: string, sentAt: number, acceptedAt: number): void {
    this.sent.set(key, { sentAt, acceptedAt })
  }

  /** First arrival of `key` at subscriber `index` (later copies are duplicates and ignored). */
  arrived (index: number, key: string, at: number): void {
    const map = this.arrivals[index] as Map<string, number>
    if (!map.has(key)) map.set(key, at)
  }

  /** accepted keys held by every subscriber */
  deliveredEverywhere (): number {
    let n = 0
    for (const key of this.sent.keys()) if (this.arrivals.every(m => m.has(key))) n++
    return n
  }

  /** Waits until every accepted key reached every subscriber, or `timeoutMs`; returns whether it did. */
  async drain (timeoutMs: number): Promise<boolean> {
    try {
      await waitUntil(() => this.deliveredEverywhere() >= this.sent.size, { timeoutMs, intervalMs: 100, message: 'delivery to every subscriber' })
      return true
    } catch {
      return false
    }
  }

  summary (latencySubscriber: number): DeliverySummary {
    let firstSent = Number.POSITIVE_INFINITY
    let lastAccepted = Number.NEGATIVE_INFINITY
    for (const s of this.sent.values()) {
      if (s.sentAt < firstSent) firstSent = s.sentAt
      if (s.acceptedAt > lastAccepted) lastAccepted = s.acceptedAt
    }
    const acceptToSub: number[] = []
    const sendToSub: number[] = []
    let lastEverywhere = firstSent
    let everywhere = 0
    const at = this.arrivals[latencySubscriber] as Map<string, number>
    for (const [key, s] of this.sent) {
      const arrival = at.get(key)
      if (arrival !== undefined) {
        acceptToSub.push(arrival - s.acceptedAt)
        sendToSub.push(arrival - s.sentAt)
      }
      let latest = Number.NEGATIVE_INFINITY
      let everyone = true
      for (const m of this.arrivals) {
        const t = m.get(key)
        if (t === undefined) {
          everyone = false
          break
        }
        if (t > latest) latest = t
      }
      if (everyone) {
        everywhere++
        if (latest > lastEverywhere) lastEverywhere = latest
      }
    }
    return {
      accepted: this.sent.size,
      delivered: Object.fromEntries(this.subscribers.map((name, i) => [name, countKnown(this.arrivals[i] as Map<string, number>, this.sent)])),
      deliveredEverywhere: everywhere,
      deliveryRatio: this.sent.size === 0 ? Number.NaN : round(everywhere / this.sent.size, 4),
      acceptedPerSec: rate(this.sent.size, lastAccepted - firstSent),
      deliveredPerSec: rate(everywhere, lastEverywhere - firstSent),
      spanMs: round(lastEverywhere - firstSent, 0),
      acceptToSubscriberMs: summarize(acceptToSub),
      sendToSubscriberMs: summarize(sendToSub),
      latencySubscriber: this.subscribers[latencySubscriber] as string
    }
  }
}

function countKnown (arrivals: Map<string, number>, sent: Map<string, unknown>): number {
  let n = 0
  for (const key of sent.keys()) if (arrivals.has(key)) n++
  return n
}

export interface DeliverySummary {
  accepted: number
  delivered: Record<string, number>
  deliveredEverywhere: number
  deliveryRatio: number
  /** accepted events / (last accept − first send) */
  acceptedPerSec: number
  /** events held by every subscriber / (last arrival − first send) */
  deliveredPerSec: number
  spanMs: number
  /** from the publisher's accept (HTTP 202, broker confirm) to availability at the latency subscriber */
  acceptToSubscriberMs: LatencySummary
  /** from the publish request leaving the client to availability at the latency subscriber */
  sendToSubscriberMs: LatencySummary
  latencySubscriber: string
}
