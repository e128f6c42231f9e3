import type { Logger } from 'pino'
import { communityHeartbeatProtocol, sendHeartbeat, serveHeartbeats, type P2PLibp2p } from '../p2p/index.js'
import type { DeliveredSets } from './delivered-sets.js'
import type { SiblingNodes } from './sibling-nodes.js'
import { SinkLease, type LeaseView } from './sink-lease.js'

export interface CommunitySideParts {
  log: Logger
  siblings: SiblingNodes
  network: string
  heartbeatMs: number
  libp2p: Pick<P2PLibp2p, 'handle' | 'unhandle' | 'dialProtocol'>
  delivered: DeliveredSets
  /** the sinks with side effects: run only while this node holds the lease */
  delivery: { start: () => Promise<void>, stop: () => Promise<void> }
}

/**
 * How soon after a delivery the holder tells its siblings, besides the heartbeat: a node that takes
 * the lease over after a crash repeats only what was delivered in this window (and a request in
 * flight), not a whole heartbeat interval's worth. Deliveries within it share one message.
 */
export const PROGRESS_DELAY_MS = 50

/** One heartbeat: the sender's lease state and every delivery it knows of (DeliveredSets). */
interface Heartbeat {
  holding: boolean
  leaving: boolean
  delivered: unknown
}

/**
 * The node's side of its community: heartbeats to and from its sibling nodes every
 * `heartbeatMs`, the sink lease they decide (SinkLease), and delivery started and stopped with it.
 * Each heartbeat carries the delivery progress known here, so a node taking the lease over skips
 * what the holder delivered up to its last heartbeat.
 */
export class CommunitySide {
  private readonly parts: CommunitySideParts
  private readonly lease: SinkLease
  private readonly protocol: string
  private timer: NodeJS.Timeout | undefined
  private unhandle: (() => Promise<void>) | undefined
  private delivering = false
  /** lease changes apply one at a time, in order */
  private applying: Promise<void> = Promise.resolve()
  /** one heartbeat on the way at a time (siblings accept few streams); `again`: send once more after it */
  private sending: Promise<void> | undefined
  private again = false
  private progressTimer: NodeJS.Timeout | undefined

  constructor (parts: CommunitySideParts) {
    this.parts = parts
    this.lease = new SinkLease(parts.siblings.order(), parts.siblings.self, parts.heartbeatMs)
    this.protocol = communityHeartbeatProtocol(parts.network)
  }

  async start (): Promise<void> {
    await this.parts.delivered.load()
    this.unhandle = await serveHeartbeats(this.parts.libp2p, this.protocol, {
      accepts: peerId => this.parts.siblings.isSibling(peerId),
      received: (peerId, bytes) => { this.received(peerId, bytes) }
    })
    this.timer = setInterval(() => { this.tick() }, this.parts.heartbeatMs)
    this.timer.unref()
    this.parts.delivered.onHandled(() => { this.progressSoon() })
  }

  /** Says goodbye (a sibling may take the lease at once), stops delivering and serving. */
  async stop (): Promise<void> {
    clearInterval(this.timer)
    this.timer = undefined
    clearTimeout(this.progressTimer)
    this.progressTimer = undefined
    this.again = false
    await this.sending
    await this.applying
    if (this.delivering) {
      this.delivering = false
      await this.parts.delivery.stop()
    }
    await this.parts.delivered.save().catch(err => { this.parts.log.warn({ err }, 'could not save the community delivery progress') })
    await this.broadcast({ holding: false, leaving: true, delivered: this.parts.delivered.toWire() })
    await this.unhandle?.()
  }

  /** The lease as this node sees it, and per subscription how many records the community handled. */
  view (): LeaseView & { handled: Record<string, number> } {
    return { ...this.lease.view(), handled: this.parts.delivered.counts() }
  }

  private tick (): void {
    const holding = this.lease.decide()
    if (holding !== this.delivering) {
      this.delivering = holding
      this.parts.log.info({ holding, lease: this.lease.view() }, holding ? 'took the sink lease: delivering webhooks and triggers' : 'gave up the sink lease: another node delivers')
      this.applying = this.applying.then(async () => {
        if (holding) await this.parts.delivery.start()
        else await this.parts.delivery.stop()
      }).catch(err => { this.parts.log.error({ err }, 'could not start or stop delivery for the sink lease') })
    }
    this.parts.delivered.save().catch(err => { this.parts.log.warn({ err }, 'could not save the community delivery progress') })
    this.sendState()
  }

  private progressSoon (): void {
    if (this.progressTimer !== undefined || this.timer === undefined) return
    this.progressTimer = setTimeout(() => {
      this.progressTimer = undefined
      this.sendState()
    }, PROGRESS_DELAY_MS)
    this.progressTimer.unref()
  }

  /** This node's lease state and delivery progress to every sibling, one send at a time. */
  private sendState (): void {
    if (this.sending !== undefined) {
      this.again = true
      return
    }
    this.sending = this.broadcast({ holding: this.delivering, leaving: false, delivered: this.parts.delivered.toWire() }).finally(() => {
      this.sending = undefined
      if (!this.again || this.timer === undefined) return
      this.again = false
      this.sendState()
    })
  }

  private async broadcast (heartbeat: Heartbeat): Promise<void> {
    const bytes = new TextEncoder().encode(JSON.stringify(heartbeat))
    await Promise.all(this.parts.siblings.siblings().map(async peerId => {
      try {
        await sendHeartbeat(this.parts.libp2p, this.protocol, peerId, bytes, this.parts.heartbeatMs)
      } catch (err) {
        // a sibling that is down is what the lease is for
        this.parts.log.debug({ err, peerId }, 'heartbeat not delivered')
      }
    }))
  }

  private received (peerId: string, bytes: Uint8Array): void {
    const heartbeat = decodeHeartbeat(bytes)
    if (heartbeat === undefined) {
      this.parts.log.warn({ peerId }, 'malformed heartbeat from a sibling node; ignored')
      return
    }
    this.parts.delivered.merge(heartbeat.delivered)
    this.lease.heard(peerId, heartbeat)
  }
}

function decodeHeartbeat (bytes: Uint8Array): Heartbeat | undefined {
  let value: unknown
  try {
    value = JSON.parse(new TextDecoder().decode(bytes))
  } catch {
    return undefined
  }
  if (typeof value !== 'object' || value === null) return undefined
  const { holding, leaving, delivered } = value as Record<string, unknown>
  if (typeof holding !== 'boolean' || typeof leaving !== 'boolean') return undefined
  return { holding, leaving, delivered }
}
