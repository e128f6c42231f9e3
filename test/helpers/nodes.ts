/**
 * Multi-node helpers for end-to-end tests: real cdgossip nodes (LevelDB in a temp dir, libp2p on
 * 127.0.0.1 or the in-process memory transport, the REST API on an ephemeral port), connected as
 * a test asks, cleaned up when the test ends; and a builder for valid CDEvents v0.5.1.
 */
import { randomUUID } from 'node:crypto'
import fs from 'node:fs/promises'
import os from 'node:os'
import path from 'node:path'
import { onTestFinished } from 'vitest'
import { ApiClient } from '../../src/cli/client.js'
import { defaultConfig } from '../../src/config.js'
import type { NodeConfig } from '../../src/config.js'
import { createLogger } from '../../src/logger.js'
import type { Logger } from '../../src/logger.js'
import { dataDirPaths, initDataDir, readApiToken } from '../../src/data-dir.js'
import type { CdgossipNode, createNode as CreateNode } from '../../src/node.js'
import { loadOrCreateIdentity } from '../../src/signing/index.js'
import type { PublishReceipt } from '../../src/api/types.js'
import type { CDEvent, EventClass } from '../../src/events/types.js'
import type { EventQuery, StoredEvent } from '../../src/store/types.js'
import { waitFor } from './wait-for.js'
import type { WaitForOptions } from './wait-for.js'

export { waitFor }
export type { WaitForOptions }

/** The gossip network of e2e nodes: topics are `cdgossip/e2e/<class>`. */
export const E2E_NETWORK = 'e2e'
/** Fast meshes: gossipsub heartbeats every 100 ms instead of 1 s. */
export const E2E_HEARTBEAT_MS = 100
/** Long enough that only the connect-time and gap-triggered sync rounds run, unless a test asks. */
export const E2E_SYNC_INTERVAL_SECONDS = 3600
/** Deadline for starting, connecting and meshing a group of nodes. */
export const START_TIMEOUT_MS = 20_000

/**
 * Who dials whom. Nodes start one after the other (a bootstrap entry needs the listen address of
 * a running node), so every entry points to an earlier node:
 * - `none`: no connections
 * - `line`: each node bootstraps to the previous one (n0–n1–…)
 * - `star`: every node bootstraps to n0
 * - `full`: each node bootstraps to every earlier one
 * - `bootstrap[i]`: the indexes node i bootstraps to, all below i
 */
export type Topology = 'none' | 'line' | 'star' | 'full' | { bootstrap: number[][] }

export interface ConfigureContext {
  index: number
  name: string
  /** every node's peer ID, known before any starts (identities are created up front) */
  peerIds: string[]
  names: string[]
}

export interface StartNodesOptions {
  /** @default 'line' */
  topology?: Topology
  /** @default E2E_NETWORK */
  network?: string
  /** `memory` for large in-process meshes @default 'tcp' */
  transport?: 'tcp' | 'memory'
  /** @default n0, n1, … */
  names?: string[]
  /** adjust each node's config before it starts (trust, subscriptions, relay, sync) */
  configure?: (config: NodeConfig, context: ConfigureContext) => void
  /** after start, wait until every node that joined one of these classes has its mesh */
  meshClasses?: EventClass[]
  /** @default START_TIMEOUT_MS */
  timeout?: number
  /** a logger per node (e.g. to capture its lines); @default silent, or CDGOSSIP_E2E_LOG */
  log?: (name: string) => Logger | undefined
}

/** One running (or stopped) node of a test and what a test needs to talk to it. */
export class E2eNode {
  readonly name: string
  readonly index: number
  readonly dataDir: string
  readonly config: NodeConfig
  readonly peerId: string
  readonly token: string
  private current: CdgossipNode

  constructor (init: { name: string, index: number, dataDir: string, config: NodeConfig, peerId: string, token: string, node: CdgossipNode }) {
    this.name = init.name
    this.index = init.index
    this.dataDir = init.dataDir
    this.config = init.config
    this.peerId = init.peerId
    this.token = init.token
    this.current = init.node
  }

  /** The node instance; a new one after restart(). */
  get node (): CdgossipNode {
    return this.current
  }

  get running (): boolean {
    return this.current.state === 'started'
  }

  /** A REST client for the node as it listens now (the API port changes on restart). */
  api (): ApiClient {
    return new ApiClient({ baseUrl: this.current.apiUrl, token: this.token, timeoutMs: 15_000 })
  }

  /** `/ip4/127.0.0.1/tcp/<port>/p2p/<id>` (or the memory address): what others bootstrap to. */
  address (): string {
    const addr = this.current.multiaddrs()[0]
    if (addr === undefined) throw new Error(`${this.name} has no listen address`)
    return addr.includes('/p2p/') ? addr : `${addr}/p2p/${this.peerId}`
  }

  async stop (): Promise<void> {
    await this.current.stop()
  }

  /**
   * Start again on the same data dir with a fresh node instance, as a process restart would.
   * `configure` may change the config first (e.g. new bootstrap addresses).
   */
  async restart (configure?: (config: NodeConfig) => void): Promise<void> {
    await this.current.stop()
    configure?.(this.config)
    this.current = await createNode(this.config, { nodeName: this.name, ...nodeLog(this.name), ...this.overrides() })
    await this.current.start()
  }

  private overrides (): { transport?: 'tcp' | 'memory' } {
    return this.config.p2p.listen.some((a) => a.startsWith('/memory/')) ? { transport: 'memory' } : {}
  }
}

/**
 * The node module is loaded on first use, not at import: the fixtures and temp-dir helpers here
 * serve tests that run the CLI in a child process and never need libp2p in the test process.
 */
async function createNode (...args: Parameters<typeof CreateNode>): Promise<CdgossipNode> {
  const { createNode: create } = await import('../../src/node.js')
  return await create(...args)
}

/**
 * Silent by default; `CDGOSSIP_E2E_LOG=debug` (any pino level) logs every node to stdout, each
 * line bound to its node name, to see what happened in a failing test.
 */
function nodeLog (name: string): { log?: Logger } {
  const level = process.env.CDGOSSIP_E2E_LOG
  if (level === undefined || level === '') return {}
  return { log: createLogger({ level, nodeName: name, pretty: false }) }
}

function bootstrapIndexes (topology: Topology, index: number): number[] {
  if (topology === 'none' || index === 0) return typeof topology === 'object' ? checked(topology.bootstrap[index] ?? [], index) : []
  if (topology === 'line') return [index - 1]
  if (topology === 'star') return [0]
  if (topology === 'full') return Array.from({ length: index }, (_, i) => i)
  return checked(topology.bootstrap[index] ?? [], index)
}

function checked (list: number[], index: number): number[] {
  for (const target of list) {
    if (!Number.isInteger(target) || target < 0 || target >= index) {
      throw new Error(`node ${index} may only bootstrap to earlier nodes, not ${target}`)
    }
  }
  return list
}

/** A temp data dir, removed when the test ends (after the nodes stopped). */
export async function tempDataDir (prefix = 'cdgossip-e2e-'): Promise<string> {
  const dir = await fs.mkdtemp(path.join(os.tmpdir(), prefix))
  onTestFinished(async () => { await fs.rm(dir, { recursive: true, force: true }) })
  return dir
}

/** The config an e2e node starts from: ephemeral ports on 127.0.0.1, quick gossip, silent logs. */
export function e2eConfig (dataDir: string, options: { network?: string, transport?: 'tcp' | 'memory' } = {}): NodeConfig {
  const config = defaultConfig(dataDir)
  config.network = options.network ?? E2E_NETWORK
  config.api.port = 0
  config.p2p.listen = options.transport === 'memory' ? [`/memory/${randomUUID()}`] : ['/ip4/127.0.0.1/tcp/0']
  config.p2p.heartbeatMs = E2E_HEARTBEAT_MS
  config.sync.intervalSeconds = E2E_SYNC_INTERVAL_SECONDS
  config.log.level = 'silent'
  return config
}

/**
 * Start `n` real nodes, each with its own temp data dir, connected per `topology`, and wait until
 * they are connected (and meshed on `meshClasses`). Every node is stopped, in reverse order, and
 * every dir removed when the test ends.
 */
export async function startNodes (n: number, options: StartNodesOptions = {}): Promise<E2eNode[]> {
  const { topology = 'line', network = E2E_NETWORK, transport = 'tcp', timeout = START_TIMEOUT_MS } = options
  const names = options.names ?? Array.from({ length: n }, (_, i) => `n${i}`)
  if (names.length !== n) throw new Error(`${n} nodes but ${names.length} names`)

  const nodes: E2eNode[] = []
  const dirs: string[] = []
  // one callback, so the order holds whatever vitest's sequence.hooks says: stop, then delete
  onTestFinished(async () => {
    try {
      for (const node of [...nodes].reverse()) await node.stop()
    } finally {
      await Promise.all(dirs.map(async (dir) => { await fs.rm(dir, { recursive: true, force: true }) }))
    }
  })

  const prepared: Array<{ dataDir: string, peerId: string }> = []
  for (let i = 0; i < n; i++) {
    const dataDir = await fs.mkdtemp(path.join(os.tmpdir(), `cdgossip-e2e-${names[i] ?? i}-`))
    dirs.push(dataDir)
    await initDataDir(dataDir)
    // created now, so every config can name every peer before anything starts
    const identity = await loadOrCreateIdentity(dataDirPaths(dataDir).identity)
    prepared.push({ dataDir, peerId: identity.peerId })
  }
  const peerIds = prepared.map((p) => p.peerId)

  for (let i = 0; i < n; i++) {
    const { dataDir, peerId } = prepared[i] as { dataDir: string, peerId: string }
    const name = names[i] as string
    const config = e2eConfig(dataDir, { network, transport })
    config.p2p.bootstrap = bootstrapIndexes(topology, i).map((t) => (nodes[t] as E2eNode).address())
    options.configure?.(config, { index: i, name, peerIds, names })
    const custom = options.log?.(name)
    const node = await createNode(config, { nodeName: name, ...(custom === undefined ? nodeLog(name) : { log: custom }), ...(transport === 'memory' ? { transport } : {}) })
    const e2e = new E2eNode({ name, index: i, dataDir, config, peerId, token: await readApiToken(dataDir), node })
    nodes.push(e2e)
    await node.start()
  }

  await waitForConnections(nodes, topology, { timeout })
  for (const eventClass of options.meshClasses ?? []) await waitForMesh(nodes, eventClass, { timeout })
  return nodes
}

/** Wait until every bootstrap connection the topology asked for is up. */
export async function waitForConnections (nodes: E2eNode[], topology: Topology, options: Omit<WaitForOptions, 'message'> = {}): Promise<void> {
  const edges = nodes.flatMap((node, i) => bootstrapIndexes(topology, i).map((t) => [node, nodes[t] as E2eNode] as const))
  await waitFor(() => edges.every(([a, b]) => connected(a, b) && connected(b, a)), {
    timeout: START_TIMEOUT_MS,
    ...options,
    message: `connections ${edges.map(([a, b]) => `${a.name}–${b.name}`).join(', ')}`
  })
}

export function connected (a: E2eNode, b: E2eNode): boolean {
  return a.running && a.node.p2p.peers().some((p) => p.peerId === b.peerId)
}

/** gossipsub's Dlo: a mesh counts as formed at this many peers, or with every subscribed neighbour. */
const MESH_LOW_WATERMARK = 4

/**
 * Wait until every running node that joined `eventClass` knows which of its connected peers joined
 * it too and has them in its mesh (up to gossipsub's low watermark), so a publish reaches them.
 */
export async function waitForMesh (nodes: E2eNode[], eventClass: EventClass, options: Omit<WaitForOptions, 'message'> = {}): Promise<void> {
  await waitFor(() => {
    const live = nodes.filter((n) => n.running && joined(n, eventClass))
    const ids = new Set(live.map((n) => n.peerId))
    return live.every((node) => {
      const expected = node.node.p2p.peers().map((p) => p.peerId).filter((id) => ids.has(id))
      const subscribers = new Set(node.node.p2p.subscribers(eventClass))
      const mesh = node.node.p2p.meshPeers(eventClass)
      return expected.every((id) => subscribers.has(id)) && mesh.length >= Math.min(expected.length, MESH_LOW_WATERMARK)
    })
  }, { timeout: START_TIMEOUT_MS, ...options, message: `a ${eventClass} mesh over ${nodes.map((n) => n.name).join(', ')}` })
}

export function joined (node: E2eNode, eventClass: EventClass): boolean {
  return node.node.p2p.topics().some((topic) => topic.endsWith(`/${eventClass}`))
}

/** Every stored event matching `query`, paging through the store. */
export async function allEvents (node: CdgossipNode, query: Omit<EventQuery, 'cursor' | 'limit'> = {}): Promise<StoredEvent[]> {
  const out: StoredEvent[] = []
  let cursor: string | undefined
  for (;;) {
    const page = await node.queryEvents({ ...query, limit: 1000, ...(cursor === undefined ? {} : { cursor }) })
    out.push(...page.events)
    if (page.next === undefined) return out
    cursor = page.next
  }
}

/** Digests of every stored event matching `query`. */
export async function digestsOf (node: CdgossipNode, query: Omit<EventQuery, 'cursor' | 'limit'> = {}): Promise<string[]> {
  return (await allEvents(node, query)).map((s) => s.event.digest)
}

/**
 * Problems with the (origin, class) sequences among `events`: each pair must hold exactly
 * 1..n once. Returns readable problems; empty when all is well.
 */
export function sequenceProblems (events: StoredEvent[]): string[] {
  const byPair = new Map<string, number[]>()
  for (const { event } of events) {
    const key = `${event.origin} ${event.eventClass}`
    byPair.set(key, [...(byPair.get(key) ?? []), event.sequence])
  }
  const problems: string[] = []
  for (const [key, sequences] of byPair) {
    const sorted = [...sequences].sort((a, b) => a - b)
    sorted.forEach((s, i) => {
      if (s !== i + 1) problems.push(`${key}: position ${i + 1} holds sequence ${s}`)
    })
    if (problems.length > 20) break
  }
  return problems
}

// ---- CDEvents fixtures ----------------------------------------------------------------------

let fixtureCounter = 0

/** A community's CI: its CloudEvent source prefix (what a trust entry scopes it to). */
export interface FixtureOptions {
  /** context.source; a unique path under it is not added, so pass the full source @default https://ci.example.org/jenkins */
  source?: string
  /** context.id @default a fresh unique id */
  id?: string
  /** subject.id @default derived from the id */
  subject?: string
  /** context.timestamp @default now */
  timestamp?: string
  chainId?: string
  /** pipelinerun.finished only @default 'success' */
  outcome?: 'success' | 'failure' | 'error' | 'cancel'
}

function context (type: string, options: FixtureOptions): CDEvent['context'] {
  fixtureCounter++
  return {
    specversion: '0.5.1',
    id: options.id ?? `e2e-${fixtureCounter}-${randomUUID()}`,
    source: options.source ?? 'https://ci.example.org/jenkins',
    type,
    timestamp: options.timestamp ?? new Date().toISOString(),
    ...(options.chainId === undefined ? {} : { chainId: options.chainId })
  }
}

/** A valid `dev.cdevents.artifact.published.0.3.0`. */
export function artifactPublished (options: FixtureOptions = {}): CDEvent {
  const ctx = context('dev.cdevents.artifact.published.0.3.0', options)
  return {
    context: ctx,
    subject: {
      id: options.subject ?? `pkg:generic/app-${fixtureCounter}@1.0.${fixtureCounter}`,
      source: ctx.source,
      content: { sbom: { uri: `https://sbom.example.org/app-${fixtureCounter}.spdx.json` }, user: 'release-bot' }
    }
  }
}

/** A valid `dev.cdevents.pipelinerun.finished.0.3.0`. */
export function pipelineRunFinished (options: FixtureOptions = {}): CDEvent {
  const ctx = context('dev.cdevents.pipelinerun.finished.0.3.0', options)
  return {
    context: ctx,
    subject: {
      id: options.subject ?? `run-${fixtureCounter}`,
      source: ctx.source,
      content: { pipelineName: 'build', uri: `https://ci.example.org/runs/${fixtureCounter}`, outcome: options.outcome ?? 'success' }
    }
  }
}

/** A valid `dev.cdevents.service.deployed.0.3.0`. */
export function serviceDeployed (options: FixtureOptions = {}): CDEvent {
  const ctx = context('dev.cdevents.service.deployed.0.3.0', options)
  return {
    context: ctx,
    subject: {
      id: options.subject ?? `service/app-${fixtureCounter}`,
      source: ctx.source,
      content: { environment: { id: 'staging', source: ctx.source }, artifactId: `pkg:oci/app@sha256%3A${'0'.repeat(63)}${fixtureCounter % 10}` }
    }
  }
}

/** Publish through the node facade (no HTTP); one receipt per event. */
export async function publishAll (node: CdgossipNode, events: CDEvent[]): Promise<PublishReceipt[]> {
  return await node.publish(events.map((cdevent) => ({ cdevent })))
}
