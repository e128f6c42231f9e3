import { prometheusMetrics } from '@libp2p/prometheus-metrics'
import { Counter, Gauge, Histogram, Registry, collectDefaultMetrics } from 'prom-client'
import { parseTopic } from '../events/index.js'
import type { DeliveryAttempt, DeliveryState } from '../delivery/index.js'
import { BoundedLabel, ClassLabels, UNMATCHED_ROUTE_LABEL, methodLabel } from './labels.js'
import type { MetricsSources } from './types.js'
import type { EventObservation } from '../contracts/observations.js'
import type { MetricsScrape, RequestSample } from '../contracts/node-facade.js'
import type { Logger } from 'pino'

/**
 * Custom classes (`x.<tool>-…`) that get their own `class` label. Standard classes are 45;
 * a few dozen custom ones cover real federations, and a peer minting new classes cannot grow
 * the registry past it.
 * @default 32
 */
export const MAX_CUSTOM_CLASS_LABELS = 32
/**
 * Subscriptions that get their own `subscription` label; the rest share `other`. Subscriptions
 * are bounded by the registry (1000), but 1000 × states is more series than a scrape should carry.
 * @default 100
 */
export const MAX_SUBSCRIPTION_LABELS = 100
/** Source label values of the hooks metric: hooks/' MAX_SOURCES, so every source a node may have gets its own. */
export const MAX_SOURCE_LABELS = 64
/**
 * HTTP latency buckets in seconds: publishes and queries take milliseconds; SSE streams last as
 * long as the client stays, and land in +Inf.
 */
export const HTTP_DURATION_BUCKETS: readonly number[] = Object.freeze([0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10])

/** Every DeliveryState, each a series of the state gauge; the Record type fails the build when a state is added and not listed. */
const DELIVERY_STATE_NAMES: Record<DeliveryState, true> = { delivering: true, retrying: true, idle: true, paused: true, invalid: true, stopped: true }
const DELIVERY_STATES = Object.keys(DELIVERY_STATE_NAMES) as DeliveryState[]

export interface NodeMetricsComponents {
  sources: MetricsSources
  log?: Logger
}

export interface NodeMetricsInit {
  /** @default MAX_CUSTOM_CLASS_LABELS */
  maxCustomClassLabels?: number
  /** @default MAX_SUBSCRIPTION_LABELS */
  maxSubscriptionLabels?: number
  /** add the process's `process_*`/`nodejs_*` metrics to every scrape @default true */
  processMetrics?: boolean
}

/** One per process: the process metrics describe the process, however many nodes it runs. */
let processRegistry: Registry | undefined

function sharedProcessRegistry (): Registry {
  if (processRegistry === undefined) {
    processRegistry = new Registry()
    collectDefaultMetrics({ register: processRegistry })
  }
  return processRegistry
}

/**
 * The node's Prometheus metrics, in a registry of its own (several nodes may run in one process,
 * as in tests). Counters on the hot paths are pushed by hooks (`observe*`); everything the
 * running components already know (store size, mesh, sync and delivery state) is read at
 * scrape time, so nothing is computed between scrapes.
 */
export class NodeMetrics {
  private readonly registry: Registry
  private readonly components: NodeMetricsComponents
  private readonly processMetrics: boolean
  private readonly classes: ClassLabels
  private readonly subscriptions: BoundedLabel
  private readonly sourceLabels: BoundedLabel
  /** the registry of the current libp2p node; each start builds a new libp2p and a new registry */
  private libp2pRegistry: Registry | undefined

  private readonly published: Counter<'class'>
  private readonly received: Counter<'class' | 'via' | 'outcome'>
  private readonly deduplicated: Counter<'class' | 'via'>
  private readonly rejected: Counter<'class' | 'via' | 'reason'>
  private readonly refused: Counter<'class' | 'via' | 'reason'>
  private readonly deliveryAttempts: Counter<'subscription' | 'result'>
  private readonly deliveryFailures: Counter<'subscription'>
  private readonly hookDeliveries: Counter<'source' | 'outcome'>
  private readonly httpDuration: Histogram<'method' | 'route' | 'status_code'>
  private readonly scrapeTime: ReturnType<typeof scrapeTimeMetrics>

  constructor (components: NodeMetricsComponents, init: NodeMetricsInit = {}) {
    this.components = components
    this.processMetrics = init.processMetrics ?? true
    this.classes = new ClassLabels(init.maxCustomClassLabels ?? MAX_CUSTOM_CLASS_LABELS)
    this.subscriptions = new BoundedLabel(init.maxSubscriptionLabels ?? MAX_SUBSCRIPTION_LABELS)
    this.sourceLabels = new BoundedLabel(MAX_SOURCE_LABELS)
    this.registry = new Registry()
    const registers = [this.registry]

    this.published = new Counter({
      name: 'cdgossip_events_published_total',
      help: 'Events this node signed, stored and gossiped for its local tools',
      labelNames: ['class'],
      registers
    })
    this.received = new Counter({
      name: 'cdgossip_events_received_total',
      help: 'Verified events from the network: stored, or relayed without storing',
      labelNames: ['class', 'via', 'outcome'],
      registers
    })
    this.deduplicated = new Counter({
      name: 'cdgossip_events_deduplicated_total',
      help: 'Events that were already held (for publish: identical repeats answered as existing)',
      labelNames: ['class', 'via'],
      registers
    })
    this.rejected = new Counter({
      name: 'cdgossip_events_rejected_total',
      help: 'Events refused, by error code (a refused publish batch counts the event that failed it)',
      labelNames: ['class', 'via', 'reason'],
      registers
    })
    this.refused = new Counter({
      name: 'cdgossip_events_refused_total',
      help: 'Genuine events this node\'s trust policy refused although a subscription wanted them, by reason',
      labelNames: ['class', 'via', 'reason'],
      registers
    })
    this.deliveryAttempts = new Counter({
      name: 'cdgossip_delivery_attempts_total',
      help: 'Webhook delivery attempts by result (delivered, retry, dead-letter)',
      labelNames: ['subscription', 'result'],
      registers
    })
    this.deliveryFailures = new Counter({
      name: 'cdgossip_delivery_failures_total',
      help: 'Failed webhook delivery attempts (retried or dead-lettered)',
      labelNames: ['subscription'],
      registers
    })
    this.hookDeliveries = new Counter({
      name: 'cdgossip_hook_deliveries_total',
      help: 'Tool webhook deliveries to a configured source, by outcome (published, ignored, refused, failed, limited); their sum is what the source received',
      labelNames: ['source', 'outcome'],
      registers
    })
    this.httpDuration = new Histogram({
      name: 'cdgossip_http_request_duration_seconds',
      help: 'REST API request durations by route pattern',
      labelNames: ['method', 'route', 'status_code'],
      buckets: [...HTTP_DURATION_BUCKETS],
      registers
    })
    this.scrapeTime = scrapeTimeMetrics(registers)
  }

  /** The publish and receive pipelines' hook. */
  observeEvent (o: EventObservation): void {
    switch (o.outcome) {
      case 'stored':
        if (o.via === 'publish') this.published.inc({ class: this.classes.label(o.eventClass, true) })
        else this.received.inc({ class: this.classes.label(o.eventClass, true), via: o.via, outcome: 'stored' })
        break
      case 'relayed':
        this.received.inc({ class: this.classes.label(o.eventClass, false), via: o.via, outcome: 'relayed' })
        break
      case 'duplicate':
        this.deduplicated.inc({ class: this.classes.label(o.eventClass, false), via: o.via })
        break
      case 'refused':
        this.rejected.inc({ class: this.classes.label(o.eventClass, false), via: o.via, reason: o.reason })
        break
      case 'policy':
        this.refused.inc({ class: this.classes.label(o.eventClass, false), via: o.via, reason: policyLabel(o.policy) })
        break
    }
  }

  /** DeliveryService's `onAttempt` hook. */
  observeDeliveryAttempt (attempt: DeliveryAttempt): void {
    const subscription = this.subscriptions.label(attempt.subscriptionId, true)
    this.deliveryAttempts.inc({ subscription, result: attempt.result })
    if (attempt.result !== 'delivered') this.deliveryFailures.inc({ subscription })
  }

  /** The hooks listener's per-delivery hook (only deliveries to a configured source: names are bounded). */
  observeHookDelivery (source: string, outcome: string): void {
    this.hookDeliveries.inc({ source: this.sourceLabels.label(source, true), outcome })
  }

  /** The API's per-request hook. */
  observeHttpRequest (sample: RequestSample): void {
    this.httpDuration.observe({
      method: methodLabel(sample.method),
      route: sample.route ?? UNMATCHED_ROUTE_LABEL,
      status_code: String(sample.statusCode)
    }, sample.durationSeconds)
  }

  /**
   * libp2p's own metrics (`libp2p_*`) through @libp2p/prometheus-metrics, for P2PService to call
   * once per libp2p node it creates. Each call starts a fresh registry: libp2p registers its
   * metrics when a node is built, and a restarted node must not register them twice.
   */
  libp2pMetrics (): ReturnType<typeof prometheusMetrics> {
    const registry = new Registry()
    this.libp2pRegistry = registry
    // collectDefaultMetrics: the process metrics come once, from sharedProcessRegistry.
    // preserveExistingMetrics stays false: the module keeps one process-wide name → metric map,
    // and only clearing it makes a new node register into its own registry.
    return prometheusMetrics({ registry, collectDefaultMetrics: false, preserveExistingMetrics: false })
  }

  /** Everything, in the Prometheus text format. */
  async scrape (): Promise<MetricsScrape> {
    await this.refresh()
    const registries = [this.registry]
    if (this.libp2pRegistry !== undefined) registries.push(this.libp2pRegistry)
    if (this.processMetrics) registries.push(sharedProcessRegistry())
    const merged = Registry.merge(registries)
    return { contentType: merged.contentType, body: await merged.metrics() }
  }

  /**
   * Reads every source once and sets the scrape-time series. Done here rather than in prom-client
   * `collect` callbacks: those run concurrently per metric, so one source feeding several
   * metrics would show some of them a scrape late.
   */
  private async refresh (): Promise<void> {
    const { sources } = this.components
    const m = this.scrapeTime
    await Promise.all([
      this.guard('info', () => {
        const i = sources.info()
        if (i === undefined) return
        m.info.reset()
        m.info.set({ version: i.version, network: i.network, peer_id: i.peerId }, 1)
      }),
      this.guard('store', async () => {
        const stats = await sources.store()?.stats()
        if (stats === undefined) return
        m.storeEvents.set(stats.events)
        m.storeBytes.set(stats.approximateBytes)
      }),
      this.guard('p2p', () => {
        const p2p = sources.p2p()
        if (p2p === undefined) return
        m.peers.set(p2p.peers().length)
        m.mesh.reset()
        m.topicPeers.reset()
        for (const topic of p2p.topics()) {
          const eventClass = parseTopic(topic)?.eventClass
          if (eventClass === undefined) continue
          // joined topics are the operator's choice (subscriptions, relay): admitted as labels
          const label = { class: this.classes.label(eventClass, true) }
          m.mesh.inc(label, p2p.meshPeers(eventClass).length)
          m.topicPeers.inc(label, p2p.subscribers(eventClass).length)
        }
        // p2p keeps the totals; these counters mirror them
        const counters = p2p.counters()
        m.gossipPublished.reset()
        m.gossipPublished.inc(counters.published)
        m.gossipReceived.reset()
        for (const [key, count] of Object.entries(counters.received)) m.gossipReceived.inc(gossipReceivedLabels(key), count)
      }),
      this.guard('sync', () => {
        const state = sources.sync()?.state()
        if (state === undefined) return
        m.gaps.set(state.gaps)
        const now = Date.now()
        const backingOff = state.peers.filter(p => p.backoffUntil !== undefined && Date.parse(p.backoffUntil) > now).length
        m.syncPeers.set({ state: 'ready' }, state.peers.length - backingOff)
        m.syncPeers.set({ state: 'backoff' }, backingOff)
        m.syncRecords.reset()
        m.syncRecords.inc({ outcome: 'stored' }, state.fetched)
        m.syncRecords.inc({ outcome: 'duplicate' }, state.duplicates)
        m.syncRecords.inc({ outcome: 'relayed' }, state.relayed)
        m.syncRecords.inc({ outcome: 'refused' }, state.refused)
        m.syncRecords.inc({ outcome: 'rejected' }, state.rejected)
      }),
      this.guard('refusals', () => {
        const refusals = sources.refusals?.()
        if (refusals === undefined) return
        m.refusedSequences.reset()
        for (const [reason, n] of Object.entries(refusals.reasons)) m.refusedSequences.inc({ reason: policyLabel(reason) }, n)
      }),
      this.guard('delivery', async () => {
        const statuses = await sources.delivery()?.statuses()
        if (statuses === undefined) return
        m.lag.reset()
        m.deadLetters.reset()
        m.deliveryState.reset()
        for (const status of statuses) {
          const subscription = this.subscriptions.label(status.subscriptionId, true)
          // inc, not set: subscriptions past the cap add up under `other`
          m.lag.inc({ subscription }, status.lag)
          m.deadLetters.inc({ subscription }, status.deadLetters)
          for (const state of DELIVERY_STATES) m.deliveryState.inc({ subscription, state }, state === status.state ? 1 : 0)
        }
      })
    ])
  }

  private async guard (source: string, read: () => Promise<void> | void): Promise<void> {
    try {
      await read()
    } catch (err) {
      // one failing source (a component stopping mid-scrape) must not fail the whole scrape
      this.components.log?.warn({ err, source }, 'metrics source failed; its series keep their last values')
    }
  }
}

function scrapeTimeMetrics (registers: Registry[]) {
  return {
    info: new Gauge({
      name: 'cdgossip_node_info',
      help: 'Always 1; the labels describe the node',
      labelNames: ['version', 'network', 'peer_id'] as const,
      registers
    }),
    storeEvents: new Gauge({ name: 'cdgossip_store_events', help: 'Events held in the store', registers }),
    storeBytes: new Gauge({ name: 'cdgossip_store_size_bytes', help: 'Approximate size of the store on disk', registers }),
    peers: new Gauge({ name: 'cdgossip_peers', help: 'Connected libp2p peers', registers }),
    mesh: new Gauge({
      name: 'cdgossip_gossip_mesh_peers',
      help: 'Peers in this node\'s gossipsub mesh, per joined class topic',
      labelNames: ['class'] as const,
      registers
    }),
    topicPeers: new Gauge({
      name: 'cdgossip_gossip_topic_peers',
      help: 'Connected peers subscribed to each joined class topic',
      labelNames: ['class'] as const,
      registers
    }),
    gossipPublished: new Counter({
      name: 'cdgossip_gossip_messages_published_total',
      help: 'Records handed to gossipsub for publishing',
      registers
    }),
    gossipReceived: new Counter({
      name: 'cdgossip_gossip_messages_received_total',
      help: 'Gossip messages by validator result (accept, ignore, reject) and reason (outcome or error code)',
      labelNames: ['result', 'reason'] as const,
      registers
    }),
    gaps: new Gauge({
      name: 'cdgossip_sync_gap_sequences',
      help: 'Sequence numbers known to be missing that no peer has supplied yet',
      registers
    }),
    refusedSequences: new Gauge({
      name: 'cdgossip_sync_refused_sequences',
      help: 'Sequences known refused by this node\'s trust policy (not gaps), by reason',
      labelNames: ['reason'] as const,
      registers
    }),
    syncPeers: new Gauge({
      name: 'cdgossip_sync_peers',
      help: 'Peers sync knows, ready or backing off after failures',
      labelNames: ['state'] as const,
      registers
    }),
    syncRecords: new Counter({
      name: 'cdgossip_sync_records_fetched_total',
      help: 'Records fetched by sync, by outcome',
      labelNames: ['outcome'] as const,
      registers
    }),
    lag: new Gauge({
      name: 'cdgossip_delivery_lag_events',
      help: 'Matching events not yet delivered or dead-lettered, per webhook subscription (a lower bound past the scan limit)',
      labelNames: ['subscription'] as const,
      registers
    }),
    deadLetters: new Gauge({
      name: 'cdgossip_delivery_dead_letters',
      help: 'Dead letters held per webhook subscription',
      labelNames: ['subscription'] as const,
      registers
    }),
    deliveryState: new Gauge({
      name: 'cdgossip_delivery_state',
      help: 'Webhook subscriptions in each delivery state (1 for the current state of a subscription)',
      labelNames: ['subscription', 'state'] as const,
      registers
    })
  }
}

/** The trust policy's refusal reasons; anything else (never expected) is `other`, so the label stays bounded. */
const POLICY_REASONS = new Set(['unknown-signer', 'source-not-allowed', 'class-not-allowed', 'revoked-signer'])

function policyLabel (reason: string): string {
  return POLICY_REASONS.has(reason) ? reason : 'other'
}

/** `stored` → accept/stored, `duplicate` → ignore/duplicate, `reject:CDG_…` → reject/CDG_… */
function gossipReceivedLabels (key: string): { result: string, reason: string } {
  const colon = key.indexOf(':')
  if (colon >= 0) return { result: key.slice(0, colon), reason: key.slice(colon + 1) }
  return { result: key === 'duplicate' ? 'ignore' : 'accept', reason: key }
}
