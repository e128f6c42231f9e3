/** Heartbeats a node may miss before its siblings count it as gone. */
export const MISSED_HEARTBEATS = 3

export interface LeaseView {
  holding: boolean
  /** the node this one believes holds the lease: itself, a live sibling that claims it, or none */
  holder?: string
  /** the siblings heard from within MISSED_HEARTBEATS intervals */
  live: string[]
}

/**
 * Who of a community's nodes runs the sinks with side effects (webhooks, tool triggers): one
 * node at a time, decided by each node from the heartbeats it hears, with no further agreement.
 *
 * - A node that holds the lease keeps it while it lives (no pre-emption: a node coming back does
 *   not take it from the node that took over), unless a live sibling earlier in manifest order
 *   also claims it (after a partition heals): then the earlier one keeps it, the other yields.
 * - When no live sibling claims it, the first live node in manifest order takes it.
 * - A node that just started waits MISSED_HEARTBEATS intervals before taking it, to hear a
 *   holder that is alive (and what it has delivered) first.
 * - A sibling is live while heard from within MISSED_HEARTBEATS intervals and not leaving.
 *
 * Partitioned, each side takes the lease: both deliver until the partition heals (split brain;
 * receivers dedupe by CloudEvent id). README "Communities with several nodes" has the failure modes.
 */
export class SinkLease {
  private readonly order: readonly string[]
  private readonly self: string
  private readonly windowMs: number
  private readonly now: () => number
  private readonly startedAt: number
  private readonly heardAt = new Map<string, number>()
  private readonly claims = new Map<string, boolean>()
  private holding = false

  constructor (order: readonly string[], self: string, heartbeatMs: number, now: () => number = Date.now) {
    this.order = order
    this.self = self
    this.windowMs = MISSED_HEARTBEATS * heartbeatMs
    this.now = now
    this.startedAt = now()
  }

  /** A sibling's heartbeat: whether it holds the lease, or is leaving (stopping). */
  heard (peerId: string, state: { holding: boolean, leaving: boolean }): void {
    if (state.leaving) {
      this.heardAt.delete(peerId)
      this.claims.delete(peerId)
      return
    }
    this.heardAt.set(peerId, this.now())
    this.claims.set(peerId, state.holding)
  }

  /** Decides again (on each heartbeat tick) and returns whether this node holds the lease now. */
  decide (): boolean {
    const live = this.liveSiblings()
    const claimants = live.filter(peerId => this.claims.get(peerId) === true)
    if (this.holding) {
      this.holding = !claimants.some(peerId => this.rank(peerId) < this.rank(this.self))
    } else if (claimants.length === 0 && this.now() - this.startedAt >= this.windowMs) {
      this.holding = this.order.find(peerId => peerId === this.self || live.includes(peerId)) === this.self
    }
    return this.holding
  }

  view (): LeaseView {
    const live = this.liveSiblings()
    const holder = this.holding ? this.self : live.filter(peerId => this.claims.get(peerId) === true).sort((a, b) => this.rank(a) - this.rank(b))[0]
    return { holding: this.holding, ...(holder === undefined ? {} : { holder }), live }
  }

  private liveSiblings (): string[] {
    const since = this.now() - this.windowMs
    return this.order.filter(peerId => peerId !== this.self && (this.heardAt.get(peerId) ?? -Infinity) >= since)
  }

  private rank (peerId: string): number {
    return this.order.indexOf(peerId)
  }
}
