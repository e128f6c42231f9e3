/**
 * The demo itself: three real cdgossip nodes in one process, each with its own data dir, REST API
 * and libp2p host on 127.0.0.1. Everything a community does goes through its REST API, as its CI
 * tools would; the only in-process look is at gossip readiness (see waitForGossipReady).
 */
import { randomUUID } from 'node:crypto'
import fs from 'node:fs/promises'
import os from 'node:os'
import path from 'node:path'
import { ApiClient } from '../../src/cli/client.js'
import { defaultConfig } from '../../src/config.js'
import type { NodeConfig } from '../../src/config.js'
import { initDataDir, readApiToken } from '../../src/data-dir.js'
import { classMatchesPattern } from '../../src/events/index.js'
import type { CDEvent, EventClass } from '../../src/events/types.js'
import { createLogger } from '../../src/logger.js'
import { createNode } from '../../src/node.js'
import type { CdgossipNode } from '../../src/node.js'
import type { NodeInfo, PublishReceipt } from '../../src/api/types.js'
import type { PeerInfo } from '../../src/p2p/types.js'
import type { EventView } from '../../src/events/event-view.js'
import { artifactPublished, buildFinished, changeMerged, serviceDeployed, testSuiteRunFinished, testSuiteRunStarted } from './flow.js'
import { demoPlan } from './plan.js'
import type { CommunityName, CommunityPlan } from './plan.js'
import { renderTable } from './table.js'
import { throwIfAborted, waitUntil } from './wait.js'

/** Gossip network of the demo: topics are `cdgossip/demo/<class>`, apart from any real network. */
export const DEMO_NETWORK = 'demo'
/** Gossipsub heartbeat: meshes form in a few hundred ms instead of seconds. */
export const DEMO_HEARTBEAT_MS = 200
/**
 * Periodic sync: a record gossip missed (a mesh still forming) is fetched within this time.
 * The demo waits for gossip readiness first, so normally gossip alone delivers everything.
 */
export const DEMO_SYNC_INTERVAL_SECONDS = 2
/** Deadline of each wait; the whole demo normally takes a few seconds. */
export const WAIT_TIMEOUT_MS = 10_000
/** Per REST call: local HTTP answers in milliseconds; a hung node must not hang the demo. */
export const REQUEST_TIMEOUT_MS = 5_000
/** Characters of the chainId in the table: enough to tell chains apart at a glance. */
export const CHAIN_ID_SHORT = 8

export type DemoLogLevel = NodeConfig['log']['level']

export interface DemoOptions {
  /** receives the printout, one line per call @default discarded */
  out?: (line: string) => void
  /** aborting stops the demo (nodes stopped, temp dir removed) with DemoAbortedError */
  signal?: AbortSignal
  /** @default WAIT_TIMEOUT_MS */
  timeoutMs?: number
  /** where the temp dir is created @default os.tmpdir() */
  tmpParent?: string
  /** node log level; logs go to stdout, mixed with the printout @default 'silent' */
  logLevel?: DemoLogLevel
  /** the story; tests pass a modified demoPlan() @default demoPlan() */
  communities?: CommunityPlan[]
  /**
   * called once the chain has arrived everywhere, before the nodes stop: for looking at the
   * running communities (the web page's screenshots); the demo waits for it
   */
  whileRunning?: (demo: RunningDemo) => Promise<void>
}

/** The demo's communities while they run, for DemoOptions.whileRunning. */
export interface RunningDemo {
  chainId: string
  published: DemoEvent[]
  received: ReceivedEvent[]
  /** `loginUrl` is the web page's login link, as `cdgossip ui` prints it; `api` talks to the node's REST API with its token */
  communities: Array<{ name: CommunityName, peerId: string, apiUrl: string, loginUrl: string, api: ApiClient }>
}

export interface DemoEvent {
  /** the community that published it */
  community: CommunityName
  class: EventClass
  subject: string
  contextId: string
  digest: string
}

export interface ReceivedEvent {
  /** the community that received it */
  community: CommunityName
  class: EventClass
  subject: string
  /** the origin community, by the receiver's trust name (the signer's peer ID when unknown) */
  from: string
  chainId: string
  contextId: string
  digest: string
  /** `context.links` as the receiver holds them */
  links: unknown[]
}

export interface DemoResult {
  chainId: string
  communities: Array<{ name: CommunityName, peerId: string }>
  /** in publish order */
  published: DemoEvent[]
  /** events from other communities each one holds for the chain, in flow order */
  received: ReceivedEvent[]
  /** start to nodes stopped */
  elapsedMs: number
  /** already removed */
  tmpDir: string
}

interface Community {
  plan: CommunityPlan
  dataDir: string
  node: CdgossipNode
  api?: ApiClient
  peerId?: string
}

interface Running extends Community {
  api: ApiClient
  peerId: string
}

/** Start the three communities, run the chain, report what each received, stop everything. */
export async function runDemo (options: DemoOptions = {}): Promise<DemoResult> {
  const startedAt = Date.now()
  const out = options.out ?? (() => {})
  const plan = options.communities ?? demoPlan()
  checkPlan(plan)
  const tmpDir = await fs.mkdtemp(path.join(options.tmpParent ?? os.tmpdir(), 'cdgossip-demo-'))
  const communities: Community[] = []
  let body: Omit<DemoResult, 'elapsedMs'> | undefined
  let problems: unknown[] = []
  try {
    body = await run(communities, tmpDir, plan, options, out)
  } finally {
    problems = await shutdown(communities, tmpDir)
  }
  if (problems.length > 0) throw new AggregateError(problems, 'the demo ran, but not every node stopped cleanly')
  const elapsedMs = Date.now() - startedAt
  out('')
  out(`Stopped ${communities.length} nodes and removed ${tmpDir} (${(elapsedMs / 1000).toFixed(1)} s in all).`)
  return { ...body, elapsedMs }
}

async function run (communities: Community[], tmpDir: string, plan: CommunityPlan[], options: DemoOptions, out: (line: string) => void): Promise<Omit<DemoResult, 'elapsedMs'>> {
  const { signal } = options
  const table = (lines: string[]): void => { for (const line of lines) out(`  ${line}`) }
  const timeoutMs = options.timeoutMs ?? WAIT_TIMEOUT_MS
  const wait = async (what: string, probe: () => Promise<string[]> | string[]): Promise<void> => {
    await waitUntil(probe, { what, timeoutMs, ...(signal === undefined ? {} : { signal }) })
  }

  // ---- start ----
  out(`Starting ${plan.length} communities, each a cdgossip node with its own data dir under ${tmpDir}`)
  for (const p of plan) {
    throwIfAborted(signal)
    const dataDir = path.join(tmpDir, p.name)
    await initDataDir(dataDir)
    const config = demoConfig(dataDir, options.logLevel ?? 'silent')
    config.p2p.bootstrap = p.bootstrap.map(name => addressOf(running(find(communities, name))))
    const log = config.log.level === 'silent' ? undefined : createLogger({ level: config.log.level, nodeName: p.name })
    const node = await createNode(config, { nodeName: p.name, ...(log === undefined ? {} : { log }) })
    const community: Community = { plan: p, dataDir, node }
    communities.push(community)
    await node.start()
    community.peerId = node.peerId
    community.api = new ApiClient({ baseUrl: node.apiUrl, token: await readApiToken(dataDir), timeoutMs: REQUEST_TIMEOUT_MS })
  }
  const all = communities.map(running)
  const byPeerId = new Map(all.map(c => [c.peerId, c.plan.name]))
  const nameOf = (peerId: string): string => byPeerId.get(peerId) ?? peerId
  table(renderTable(['COMMUNITY', 'PEER ID', 'REST API', 'ROLE'], all.map(c => [c.plan.name, shortPeerId(c.peerId), c.node.apiUrl, c.plan.role])))

  const edges = all.flatMap(c => c.plan.bootstrap.map(name => [c, running(find(communities, name))] as const))
  await wait(`the connections ${edges.map(([a, b]) => `${a.plan.name}–${b.plan.name}`).join(', ')}`, async () => {
    const missing: string[] = []
    for (const [a, b] of edges) {
      for (const [x, y] of [[a, b], [b, a]] as const) {
        const peers = (await x.api.request<PeerInfo[]>('GET', '/v1/peers', undefined, signal)).body
        if (!peers.some(p => p.peerId === y.peerId)) missing.push(`${x.plan.name} is not connected to ${y.plan.name}`)
      }
    }
    return missing
  })
  out(`Connected (GET /v1/peers): ${edges.map(([a, b]) => `${a.plan.name}–${b.plan.name}`).join(', ')}`)

  // ---- trust ----
  for (const c of all) {
    for (const name of c.plan.trusts) {
      throwIfAborted(signal)
      const other = running(find(communities, name))
      await c.api.request('POST', '/v1/trust', { json: { peerId: other.peerId, name: other.plan.name, sources: other.plan.sources, classes: other.plan.publishes } }, signal)
    }
  }
  out('')
  out('Trust (POST /v1/trust): each community accepts a peer only for its sources and classes')
  table(renderTable(['COMMUNITY', 'TRUSTED BY', 'FOR SOURCES', 'AND CLASSES'], all.map(c => [
    c.plan.name,
    all.filter(o => o.plan.trusts.includes(c.plan.name)).map(o => o.plan.name).join(', '),
    c.plan.sources.join(' '),
    c.plan.publishes.join(' ')
  ])))

  // ---- subscriptions ----
  for (const c of all) {
    throwIfAborted(signal)
    // `beginning`: a record gossip missed is still fetched by sync, whenever it was signed
    await c.api.request('POST', '/v1/subscriptions', { json: { classes: c.plan.subscribes, filter: {}, start: { kind: 'beginning' }, sink: { type: 'store' } } }, signal)
  }
  out('')
  out('Subscriptions (POST /v1/subscriptions): what each community wants to hear about')
  table(renderTable(['COMMUNITY', 'SUBSCRIBES TO'], all.map(c => [c.plan.name, c.plan.subscribes.join(', ')])))

  await wait('every publisher to see its subscribers on the gossip topics', () => gossipNotReady(all))

  // ---- the chain ----
  const chainId = randomUUID()
  const published: DemoEvent[] = []
  out('')
  out(`The chain ${chainId} (POST /v1/events; each community acts on what it received):`)
  const publish = async (c: Running, cdevent: CDEvent, why: string): Promise<void> => {
    throwIfAborted(signal)
    const { body: receipt } = await c.api.request<PublishReceipt>('POST', '/v1/events', { json: cdevent }, signal)
    published.push({ community: c.plan.name, class: receipt.class, subject: cdevent.subject.id, contextId: cdevent.context.id, digest: receipt.digest })
    out(`  ${c.plan.name.padEnd(7)} publishes ${receipt.class.padEnd(22)} ${why}`)
  }
  /** the CDEvent of `eventClass` in the chain that `c` holds from `from`: its trigger */
  const received = async (c: Running, eventClass: EventClass, from: Running): Promise<CDEvent> => {
    let found: CDEvent | undefined
    await wait(`${c.plan.name} to receive ${from.plan.name}'s ${eventClass}`, async () => {
      const events = await chainEvents(c, chainId, signal, eventClass)
      found = events.find(e => e.origin === from.peerId)?.cdevent
      return found === undefined ? [`${c.plan.name}: ${eventClass} from ${from.plan.name}`] : []
    })
    return found as CDEvent
  }

  const [onap, opnfv, tekton] = (['onap', 'opnfv', 'tekton'] as const).map(name => running(find(communities, name))) as [Running, Running, Running]
  const change = changeMerged(chainId)
  await publish(onap, change, 'Gerrit merged a change to so')
  const build = buildFinished(chainId, change)
  await publish(onap, build, 'Jenkins built it')
  await publish(onap, artifactPublished(chainId, build), 'the image is in Nexus')
  const artifact = await received(opnfv, 'artifact.published', onap)
  const started = testSuiteRunStarted(chainId, artifact)
  await publish(opnfv, started, `Functest starts on onap's ${artifact.subject.id}`)
  await publish(opnfv, testSuiteRunFinished(chainId, started), 'Functest passed')
  const passed = await received(tekton, 'testsuiterun.finished', opnfv)
  await publish(tekton, serviceDeployed(chainId, passed), 'deployed to staging: the tests passed')

  // ---- what arrived ----
  const expected = all.flatMap(c => published
    .filter(e => e.community !== c.plan.name && c.plan.subscribes.some(p => classMatchesPattern(p, e.class)))
    .map(e => ({ community: c, event: e })))
  await wait('every community to hold what it subscribed to', async () => {
    const missing: string[] = []
    for (const c of all) {
      const held = new Set((await chainEvents(c, chainId, signal)).map(e => e.digest))
      for (const { event } of expected.filter(x => x.community === c)) {
        if (!held.has(event.digest)) missing.push(`${c.plan.name}: ${event.class} from ${event.community} (${event.subject})`)
      }
    }
    return missing
  })

  const flowOrder = new Map(published.map((e, i) => [e.digest, i]))
  const receivedRows: ReceivedEvent[] = []
  for (const c of all) {
    const views = (await chainEvents(c, chainId, signal)).filter(e => e.origin !== c.peerId)
    views.sort((a, b) => (flowOrder.get(a.digest) ?? Infinity) - (flowOrder.get(b.digest) ?? Infinity))
    for (const view of views) {
      receivedRows.push({
        community: c.plan.name,
        class: view.class,
        subject: view.cdevent.subject.id,
        from: nameOf(view.origin),
        chainId: view.cdevent.context.chainId ?? '',
        contextId: view.cdevent.context.id,
        digest: view.digest,
        links: view.cdevent.context.links ?? []
      })
    }
  }
  out('')
  out(`What each community received (GET /v1/events?chainId=${chainId}, events from the others):`)
  table(renderTable(['COMMUNITY', 'CLASS', 'SUBJECT', 'FROM', 'CHAIN'], receivedRows.map(r => [
    r.community, r.class, r.subject, r.from, r.chainId.slice(0, CHAIN_ID_SHORT)
  ])))
  const travel = { gossip: 0, sync: 0, rejected: 0 }
  for (const c of all) {
    const info = (await c.api.request<NodeInfo>('GET', '/v1/node', undefined, signal)).body
    travel.gossip += info.counters['gossip.received.stored'] ?? 0
    travel.sync += (info.sync as { fetched?: number } | undefined)?.fetched ?? 0
    for (const [key, n] of Object.entries(info.counters)) if (key.startsWith('gossip.received.reject')) travel.rejected += n
  }
  out('')
  out(`Every community holds what it subscribed to: ${expected.length} deliveries, each signed by its origin community and verified on arrival`)
  out(`(GET /v1/node: ${travel.gossip} stored from gossip, ${travel.sync} fetched by sync, ${travel.rejected} rejected).`)
  await options.whileRunning?.({
    chainId,
    published,
    received: receivedRows,
    communities: all.map(c => ({ name: c.plan.name, peerId: c.peerId, apiUrl: c.node.apiUrl, loginUrl: c.api.uiLoginUrl(), api: c.api }))
  })

  return {
    chainId,
    communities: all.map(c => ({ name: c.plan.name, peerId: c.peerId })),
    published,
    received: receivedRows,
    tmpDir
  }
}

/** The node settings of a demo community: ephemeral local ports, quick gossip, no mDNS. */
function demoConfig (dataDir: string, logLevel: DemoLogLevel): NodeConfig {
  const config = defaultConfig(dataDir)
  config.network = DEMO_NETWORK
  config.api.host = '127.0.0.1'
  config.api.port = 0
  config.p2p.listen = ['/ip4/127.0.0.1/tcp/0']
  config.p2p.mdns = false
  config.p2p.heartbeatMs = DEMO_HEARTBEAT_MS
  config.sync.intervalSeconds = DEMO_SYNC_INTERVAL_SECONDS
  config.log.level = logLevel
  return config
}

/**
 * Gossip readiness, read in-process: whether each publisher's gossipsub already knows which peers
 * joined the topics of the classes it will publish. The REST API only shows a peer's topics that
 * the asking node joined itself, and a publisher joins no topic for what it only publishes.
 * Publishing earlier is safe (records are stored first and sync repairs) but slower to arrive.
 */
function gossipNotReady (all: Running[]): string[] {
  const missing: string[] = []
  for (const [publisher, classes] of Object.entries(FLOW_CLASSES)) {
    const p = all.find(c => c.plan.name === publisher)
    if (p === undefined) continue
    for (const eventClass of classes) {
      const known = new Set(p.node.p2p.subscribers(eventClass))
      for (const s of all) {
        if (s === p || !s.plan.subscribes.some(pattern => classMatchesPattern(pattern, eventClass))) continue
        if (!known.has(s.peerId)) missing.push(`${p.plan.name} does not see ${s.plan.name} on ${eventClass} yet`)
      }
    }
  }
  return missing
}

/** Which community publishes which classes in the chain (see the flow in run()). */
const FLOW_CLASSES: Record<CommunityName, EventClass[]> = {
  onap: ['change.merged', 'build.finished', 'artifact.published'],
  opnfv: ['testsuiterun.started', 'testsuiterun.finished'],
  tekton: ['service.deployed']
}

async function chainEvents (c: Running, chainId: string, signal: AbortSignal | undefined, eventClass?: EventClass): Promise<EventView[]> {
  const qs = new URLSearchParams({ chainId, limit: '100' })
  if (eventClass !== undefined) qs.set('type', eventClass)
  return (await c.api.request<{ events: EventView[] }>('GET', `/v1/events?${qs.toString()}`, undefined, signal)).body.events
}

/** Stop every node that was started, last first, then remove the temp dir; never throws. */
async function shutdown (communities: Community[], tmpDir: string): Promise<unknown[]> {
  const problems: unknown[] = []
  for (const c of [...communities].reverse()) {
    try {
      await c.node.stop()
    } catch (err) {
      problems.push(err)
    }
  }
  try {
    await fs.rm(tmpDir, { recursive: true, force: true })
  } catch (err) {
    problems.push(err)
  }
  return problems
}

function checkPlan (plan: CommunityPlan[]): void {
  const names = plan.map(p => p.name)
  for (const name of ['onap', 'opnfv', 'tekton'] as const) {
    if (names.filter(n => n === name).length !== 1) throw new Error(`the demo plan needs exactly one ${name}`)
  }
  plan.forEach((p, i) => {
    for (const target of p.bootstrap) {
      if (!names.slice(0, i).includes(target)) throw new Error(`${p.name} may only bootstrap to a community started before it, not ${target}`)
    }
  })
}

function find (communities: Community[], name: CommunityName): Community {
  const c = communities.find(x => x.plan.name === name)
  if (c === undefined) throw new Error(`no community ${name}`)
  return c
}

function running (c: Community): Running {
  if (c.api === undefined || c.peerId === undefined) throw new Error(`${c.plan.name} is not running`)
  return c as Running
}

/** A dialable address: bootstrap entries need the `/p2p/<peer id>` suffix. */
function addressOf (c: Running): string {
  const addr = c.node.multiaddrs()[0]
  if (addr === undefined) throw new Error(`${c.plan.name} has no listen address`)
  return addr.includes('/p2p/') ? addr : `${addr}/p2p/${c.peerId}`
}

function shortPeerId (peerId: string): string {
  return `${peerId.slice(0, 8)}…${peerId.slice(-6)}`
}
