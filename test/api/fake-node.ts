import { createHash } from 'node:crypto'
import { onTestFinished } from 'vitest'
import { buildApi, type ApiInit } from '../../src/api/index.js'
import type { DeadLetter, ImportResult, MetricsScrape, NodeConfiguration, NodeFacade, NodeInfo, PublishItem, PublishReceipt, SourceTestResult, SourceView, StreamOptions, SubscriptionInput } from '../../src/api/types.js'
import { CdgossipError } from '../../src/errors.js'
import type { CDEvent } from '../../src/events/types.js'
import type { EventPage, EventQuery, StoredEvent } from '../../src/store/types.js'
import type { Subscription } from '../../src/subscriptions/types.js'
import type { TrustEntry, TrustMode } from '../../src/trust/types.js'
import type { PeerInfo } from '../../src/p2p/types.js'
import type { ArtifactView, TraceGraph } from '../../src/contracts/trace.js'
import type { CommunityPublishResult, CommunityView } from '../../src/contracts/community.js'
import type { FastifyInstance } from 'fastify'

export const TOKEN = 'test-token-0123456789abcdef'
export const PEER_ID = '12D3KooWAbcdefghijkmnopqrstuvwxyzABCDEFGHJKLMNPQRSTU'

/**
 * An honest in-memory NodeFacade: it keeps what is published, refuses what a node would refuse
 * (in the node's error codes) and answers queries from what it holds. Enough for the API's
 * mapping of HTTP to facade calls; the real node is exercised by the lead's end-to-end tests.
 */
export class FakeNode implements NodeFacade {
  readonly calls: { publish: PublishItem[][], queries: EventQuery[], redrive: Array<{ id: string, digests?: string[] }>, discard: Array<{ id: string, digests?: string[] }> } = {
    publish: [],
    queries: [],
    redrive: [],
    discard: []
  }

  /** thrown by every facade method while set */
  failWith: Error | undefined
  trustModeValue: TrustMode = 'allowlist'
  readonly trust: TrustEntry[] = []
  readonly subscriptions = new Map<string, Subscription>()
  readonly deadLetters = new Map<string, DeadLetter[]>()
  readonly peerList: PeerInfo[] = []

  private readonly stored: StoredEvent[] = []
  private readonly bySourceId = new Map<string, { content: string, stored: StoredEvent }>()
  private readonly sequences = new Map<string, number>()
  private readonly listeners = new Set<(stored: StoredEvent) => void>()

  async info (): Promise<NodeInfo> {
    this.maybeFail()
    return {
      peerId: PEER_ID,
      network: 'test',
      version: '0.0.0-test',
      listenAddresses: ['/ip4/127.0.0.1/tcp/4001'],
      topics: ['cdgossip/test/pipelinerun.finished'],
      peers: this.peerList.length,
      counters: { published: this.stored.length },
      trustMode: this.trustModeValue,
      store: { events: this.stored.length },
      sync: { peers: [], gaps: 0, fetched: 0, duplicates: 0, relayed: 0, refused: 0, rejected: 0 }
    }
  }

  async publish (items: PublishItem[]): Promise<PublishReceipt[]> {
    this.calls.publish.push(items)
    this.maybeFail()
    // all-or-nothing: check every item before storing any
    const checked = items.map((item, index) => checkItem(item, index))
    const receipts: PublishReceipt[] = []
    for (const cdevent of checked) {
      const key = `${cdevent.context.source}\n${cdevent.context.id}`
      const content = JSON.stringify(cdevent)
      const held = this.bySourceId.get(key)
      if (held !== undefined && held.content !== content) {
        throw new CdgossipError('CDG_CONFLICTING_EVENT', `${cdevent.context.source} ${cdevent.context.id} is taken by other content`)
      }
    }
    for (const cdevent of checked) {
      const key = `${cdevent.context.source}\n${cdevent.context.id}`
      const held = this.bySourceId.get(key)
      const stored = held?.stored ?? this.store(cdevent, key)
      receipts.push({
        digest: stored.event.digest,
        id: cdevent.context.id,
        source: cdevent.context.source,
        type: cdevent.context.type,
        class: stored.event.eventClass,
        sequence: stored.event.sequence,
        status: held === undefined ? 'created' : 'existing'
      })
    }
    return receipts
  }

  async getEvent (digest: string): Promise<StoredEvent | undefined> {
    this.maybeFail()
    return this.stored.find((s) => s.event.digest === digest)
  }

  // traceability is exercised against real nodes (test/api/trace.test.ts); this fake holds no links
  async traceChain (): Promise<TraceGraph> {
    this.maybeFail()
    return { nodes: [], edges: [], truncated: false }
  }

  async traceEvent (): Promise<TraceGraph | undefined> {
    this.maybeFail()
    return undefined
  }

  async artifact (purl: string): Promise<ArtifactView> {
    this.maybeFail()
    return { purl, lifecycle: [], builds: [], changes: [], tests: [], deployments: [], confidence: [], truncated: false }
  }

  async queryEvents (query: EventQuery): Promise<EventPage> {
    this.calls.queries.push(query)
    this.maybeFail()
    if (query.cursor !== undefined && !/^c\d+$/.test(query.cursor)) {
      throw new CdgossipError('CDG_INVALID_REQUEST', 'bad cursor')
    }
    const after = query.cursor === undefined ? -1 : Number(query.cursor.slice(1))
    const matching = this.stored.filter((s) =>
      Number(s.cursor.slice(1)) > after &&
      (query.type === undefined || s.event.cdevent.context.type === query.type || s.event.eventClass === query.type) &&
      (query.source === undefined || s.event.cdevent.context.source.startsWith(query.source)) &&
      (query.trusted === undefined || s.trusted === query.trusted))
    const limit = query.limit ?? 100
    const events = matching.slice(0, limit)
    const last = events.at(-1)
    return matching.length > limit && last !== undefined ? { events, next: last.cursor } : { events }
  }

  onStored (listener: (stored: StoredEvent) => void): () => void {
    this.listeners.add(listener)
    return () => { this.listeners.delete(listener) }
  }

  /** what GET /v1/config reports as the loaded configuration */
  configValue: Record<string, unknown> = {
    dataDir: '/srv/cdgossip',
    network: 'test',
    api: { host: '127.0.0.1', port: 7070, bodyLimit: 1048576 },
    p2p: { listen: ['/ip4/127.0.0.1/tcp/4001'], bootstrap: [], mdns: false, relay: [], heartbeatMs: 1000 },
    sync: { intervalSeconds: 30 },
    trust: { mode: 'allowlist', communities: [] },
    subscriptions: [],
    log: { level: 'info' }
  }

  configuration (): NodeConfiguration {
    this.maybeFail()
    return { config: this.configValue, trust: { mode: this.trustModeValue, entries: [...this.trust] }, subscriptions: [...this.subscriptions.values()] }
  }

  trustMode (): TrustMode {
    this.maybeFail()
    return this.trustModeValue
  }

  listTrust (): TrustEntry[] {
    this.maybeFail()
    return [...this.trust]
  }

  async addTrust (entry: Omit<TrustEntry, 'classes'> & { classes?: string[] }): Promise<TrustEntry> {
    this.maybeFail()
    const full: TrustEntry = { ...entry, classes: entry.classes ?? ['*'] }
    const existing = this.trust.findIndex((t) => t.peerId === entry.peerId)
    if (existing >= 0) this.trust.splice(existing, 1, full)
    else this.trust.push(full)
    return full
  }

  /** chains handed to POST /v1/community/manifests, as given */
  readonly publishedChains: unknown[] = []

  async publishCommunityChain (chain: unknown): Promise<CommunityPublishResult> {
    this.maybeFail()
    this.publishedChains.push(chain)
    return { id: 'fake', version: this.publishedChains.length, status: 'accepted' }
  }

  listCommunities (): CommunityView[] {
    this.maybeFail()
    return []
  }

  async removeTrust (peerIdOrName: string): Promise<boolean> {
    this.maybeFail()
    const index = this.trust.findIndex((t) => t.peerId === peerIdOrName || t.name === peerIdOrName)
    if (index < 0) return false
    this.trust.splice(index, 1)
    return true
  }

  listSubscriptions (): Subscription[] {
    this.maybeFail()
    return [...this.subscriptions.values()]
  }

  getSubscription (id: string): Subscription | undefined {
    this.maybeFail()
    return this.subscriptions.get(id)
  }

  async addSubscription (input: SubscriptionInput): Promise<Subscription> {
    this.maybeFail()
    const id = input.id ?? `sub-${this.subscriptions.size + 1}`
    if (this.subscriptions.has(id)) throw new CdgossipError('CDG_INVALID_REQUEST', `subscription ${id} exists`)
    const subscription: Subscription = { ...input, id, createdAt: new Date().toISOString(), origin: 'api' }
    this.subscriptions.set(id, subscription)
    return subscription
  }

  async removeSubscription (id: string): Promise<boolean> {
    this.maybeFail()
    return this.subscriptions.delete(id)
  }

  async listDeadLetters (subscriptionId: string): Promise<DeadLetter[]> {
    this.maybeFail()
    return this.deadLetters.get(subscriptionId) ?? []
  }

  async discardDeadLetters (subscriptionId: string, digests?: string[]): Promise<number> {
    this.calls.discard.push(digests === undefined ? { id: subscriptionId } : { id: subscriptionId, digests })
    this.maybeFail()
    const letters = this.deadLetters.get(subscriptionId) ?? []
    const kept = letters.filter((l) => digests !== undefined && !digests.includes(l.digest))
    this.deadLetters.set(subscriptionId, kept)
    return letters.length - kept.length
  }

  async redriveDeadLetters (subscriptionId: string, digests?: string[]): Promise<number> {
    this.calls.redrive.push(digests === undefined ? { id: subscriptionId } : { id: subscriptionId, digests })
    this.maybeFail()
    const letters = this.deadLetters.get(subscriptionId) ?? []
    const chosen = letters.filter((l) => digests === undefined || digests.includes(l.digest))
    this.deadLetters.set(subscriptionId, letters.filter((l) => !chosen.includes(l)))
    return chosen.length
  }

  // tool webhook sources: covered against a real node (test/hooks/listener.test.ts)
  listSources (): SourceView[] {
    return []
  }

  async addSource (): Promise<SourceView> {
    throw new CdgossipError('CDG_INVALID_REQUEST', 'the fake node has no sources')
  }

  async removeSource (): Promise<boolean> {
    return false
  }

  async testSource (): Promise<SourceTestResult> {
    throw new CdgossipError('CDG_NOT_FOUND', 'the fake node has no sources')
  }

  peers (): PeerInfo[] {
    this.maybeFail()
    return this.peerList
  }

  /** The stream route's own behaviour is covered end to end (test/cli tail, test/delivery). */
  async openStream (_options: StreamOptions): Promise<AsyncGenerator<string, void, undefined>> {
    this.maybeFail()
    return (async function * () {})()
  }

  async importRecords (records: Uint8Array[]): Promise<ImportResult> {
    this.maybeFail()
    return { stored: records.length, duplicates: 0, refused: [] }
  }

  async metrics (): Promise<MetricsScrape> {
    this.maybeFail()
    return { contentType: 'text/plain; version=0.0.4; charset=utf-8', body: '' }
  }

  /** Store a record as if it came from the network, untrusted unless told otherwise. */
  storeRemote (cdevent: CDEvent, trusted = false): StoredEvent {
    return this.store(cdevent, `${cdevent.context.source}\n${cdevent.context.id}`, trusted)
  }

  private store (cdevent: CDEvent, key: string, trusted = true): StoredEvent {
    const eventClass = classOf(cdevent.context.type)
    const sequence = (this.sequences.get(eventClass) ?? 0) + 1
    this.sequences.set(eventClass, sequence)
    const data = Buffer.from(JSON.stringify(cdevent))
    const attributes = {
      specversion: '1.0' as const,
      id: cdevent.context.id,
      source: cdevent.context.source,
      type: cdevent.context.type,
      sequence: String(sequence),
      signedextattrs: 'sequence',
      dssematerial: 'fake-envelope'
    }
    // deliberately not JSON.stringify's compact form: the API must serve these bytes untouched
    const bytes = Buffer.from(JSON.stringify({ ...attributes, data_base64: data.toString('base64') }, null, 3) + '\n')
    const stored: StoredEvent = {
      event: {
        bytes,
        digest: createHash('sha256').update(bytes).digest('hex'),
        attributes,
        data,
        origin: PEER_ID,
        sequence,
        cdevent,
        eventClass
      },
      cursor: `c${this.stored.length}`,
      receivedAt: new Date().toISOString(),
      trusted
    }
    this.stored.push(stored)
    this.bySourceId.set(key, { content: JSON.stringify(cdevent), stored })
    for (const listener of this.listeners) listener(stored)
    return stored
  }

  private maybeFail (): void {
    if (this.failWith !== undefined) throw this.failWith
  }
}

function classOf (type: string): string {
  const parts = type.split('.')
  return `${parts[2] ?? '?'}.${parts[3] ?? '?'}`
}

/** The node's checks, in miniature: a context and subject, and CloudEvent attributes that agree. */
function checkItem (item: PublishItem, index: number): CDEvent {
  const event = item.cdevent as Partial<CDEvent> | undefined
  const violations: Array<{ path: string, message: string }> = []
  const context = event?.context
  if (typeof context !== 'object' || context === null) {
    violations.push({ path: '/context', message: 'must have required property context' })
  } else {
    for (const field of ['id', 'source', 'type', 'specversion'] as const) {
      if (typeof context[field] !== 'string') violations.push({ path: `/context/${field}`, message: 'must be string' })
    }
  }
  if (typeof event?.subject !== 'object') violations.push({ path: '/subject', message: 'must have required property subject' })
  if (violations.length > 0) {
    throw new CdgossipError('CDG_INVALID_EVENT', `event ${index} is not a valid CDEvent`, { details: { violations } })
  }
  const cdevent = event as CDEvent
  if (cdevent.context.specversion !== '0.5.1') {
    throw new CdgossipError('CDG_UNSUPPORTED_SPEC_VERSION', `spec version ${cdevent.context.specversion}`)
  }
  const attributes = item.cloudEventAttributes
  if (attributes !== undefined) {
    const mismatches = (['id', 'source', 'type'] as const)
      .filter((name) => attributes[name] !== cdevent.context[name])
      .map((name) => ({ attribute: name, expected: cdevent.context[name], actual: attributes[name] }))
    if (mismatches.length > 0) {
      throw new CdgossipError('CDG_INVALID_CLOUDEVENT', 'CloudEvent attributes disagree with the CDEvent', { details: { mismatches } })
    }
  }
  return cdevent
}

/** A valid-looking CDEvent v0.5.1 pipelinerun.finished. */
export function cdevent (id = 'run-1', overrides: Partial<CDEvent['context']> = {}): CDEvent {
  return {
    context: {
      specversion: '0.5.1',
      id,
      source: 'https://ci.example.org/jobs/build',
      type: 'dev.cdevents.pipelinerun.finished.0.3.0',
      timestamp: '2026-01-02T03:04:05Z',
      ...overrides
    },
    subject: {
      id: 'pipeline/build/42',
      content: { pipelineName: 'build', url: 'https://ci.example.org/jobs/build/42', outcome: 'success' }
    }
  }
}

/** A structured-mode CloudEvent carrying the CDEvent. */
export function structured (event: CDEvent, extra: Record<string, unknown> = {}): Record<string, unknown> {
  return {
    specversion: '1.0',
    id: event.context.id,
    source: event.context.source,
    type: event.context.type,
    time: event.context.timestamp,
    datacontenttype: 'application/json',
    data: event,
    ...extra
  }
}

export interface TestApi {
  app: FastifyInstance
  node: FakeNode
  auth: { authorization: string }
}

/** A built (not listening) API over a fresh FakeNode, closed when the test ends. */
export async function startApi (init: Partial<ApiInit> = {}, node = new FakeNode()): Promise<TestApi> {
  const app = await buildApi({ node }, { token: TOKEN, version: '0.0.0-test', ...init })
  onTestFinished(async () => { await app.close() })
  await app.ready()
  return { app, node, auth: { authorization: `Bearer ${TOKEN}` } }
}
