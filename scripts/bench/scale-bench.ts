import { randomUUID } from 'node:crypto'
import { mkdir } from 'node:fs/promises'
import { defaultConfig } from '../../src/config.js'
import { dataDirPaths, initDataDir } from '../../src/data-dir.js'
import { createNode, type CdgossipNode } from '../../src/node.js'
import { loadOrCreateIdentity } from '../../src/signing/index.js'
import type { BenchContext, Figure, PartResult } from './context.js'
import { dirFor } from './context.js'
import { onCleanup } from './resources.js'
import { memoryOf, rate, round, sleep, summarize, waitUntil } from './stats.js'
import { WORKLOAD_MIX, Workload, prng } from './workload.js'

/**
 * Figure 6: a mesh of N nodes (default 30) in this one process over libp2p's in-memory transport
 * (N processes would need N × ~120 MiB and N event loops on two cores). Each node trusts all the
 * others and subscribes to everything; each dials up to DIALS earlier nodes chosen at random, so
 * the graph is connected but not complete. Events are published at random nodes at a fixed rate;
 * every other node must store each one. Propagation latency = publish accepted → stored there.
 */

/** Bootstrap dials per node (a sparse, connected graph: most pairs are several hops apart). */
const DIALS = 3
const PUBLISH_RATE = 10
const MESH_TIMEOUT_MS = 60_000
const DELIVERY_TIMEOUT_MS = 30_000
const NETWORK = 'bench-scale'
const RSS_SAMPLE_MS = 250
/** a publish through the node API that takes longer than this counts as failed */
const PUBLISH_TIMEOUT_MS = 10_000
/** gossipsub's D_lo: a mesh counts as formed at this many peers, or with every subscribed neighbour */
const MESH_LOW = 4

export async function runScale (ctx: BenchContext): Promise<PartResult> {
  const started = performance.now()
  const { options, log } = ctx
  const n = options.scaleNodes
  const events = options.scaleEvents
  const rand = prng(61)
  log(`scale: ${n} nodes in this process (memory transport), each dialling up to ${DIALS} random earlier nodes`)

  const prepared: Array<{ dir: string, peerId: string }> = []
  for (let i = 0; i < n; i++) {
    const dir = dirFor(ctx, 'scale', `n${i}`)
    await mkdir(dir, { recursive: true })
    await initDataDir(dir)
    prepared.push({ dir, peerId: (await loadOrCreateIdentity(dataDirPaths(dir).identity)).peerId })
  }
  // VmHWM of this process also covers earlier parts (the query fill): sample VmRSS instead
  const rssBefore = (await memoryOf(process.pid))?.rssMiB ?? Number.NaN
  let rssPeak = rssBefore
  const sampler = setInterval(() => {
    void memoryOf(process.pid).then(m => { if (m !== undefined && m.rssMiB > rssPeak) rssPeak = m.rssMiB })
  }, RSS_SAMPLE_MS)
  const nodes: CdgossipNode[] = []
  const unregister = onCleanup('scale mesh', async () => { for (const node of [...nodes].reverse()) await node.stop().catch(() => {}) })
  const arrivals = new Map<string, Map<number, number>>()
  const t0 = performance.now()
  let edges = 0
  try {
    for (let i = 0; i < n; i++) {
      const { dir } = prepared[i] as { dir: string, peerId: string }
      const config = defaultConfig(dir)
      config.network = NETWORK
      config.api.port = 0
      config.p2p.listen = [`/memory/${randomUUID()}`]
      const targets = new Set<number>()
      for (let k = 0; k < DIALS * 4 && targets.size < Math.min(DIALS, i); k++) targets.add(Math.floor(rand() * i))
      edges += targets.size
      config.p2p.bootstrap = [...targets].map(t => {
        const node = nodes[t] as CdgossipNode
        const addr = node.multiaddrs()[0] ?? ''
        return addr.includes('/p2p/') ? addr : `${addr}/p2p/${node.peerId}`
      })
      config.trust.communities = prepared.filter((_, j) => j !== i).map((p, j) => ({ peerId: p.peerId, name: `community-${j}`, sources: ['*'] }))
      config.subscriptions = [{ classes: ['*'], filter: {}, includeUntrusted: false, start: { kind: 'now' }, sink: { type: 'store' } }]
      config.log.level = 'silent'
      const node = await createNode(config, { transport: 'memory', nodeName: `n${i}` })
      await node.start()
      nodes.push(node)
      node.onStored(stored => {
        if (stored.event.origin === node.peerId) return
        const at = performance.now()
        let m = arrivals.get(stored.event.digest)
        if (m === undefined) {
          m = new Map()
          arrivals.set(stored.event.digest, m)
        }
        if (!m.has(i)) m.set(i, at)
      })
    }
    const startMs = performance.now() - t0
    log(`  ${n} nodes started in ${(startMs / 1000).toFixed(1)} s (${edges} dials)`)

    const classes = WORKLOAD_MIX.map(([kind]) => kind)
    const ids = new Set(nodes.map(node => node.peerId))
    const meshReady = (): boolean => nodes.every(node => {
      const neighbours = node.p2p.peers().map(p => p.peerId).filter(id => ids.has(id))
      return classes.every(c => {
        const subscribers = new Set(node.p2p.subscribers(c))
        return neighbours.every(id => subscribers.has(id)) && node.p2p.meshPeers(c).length >= Math.min(neighbours.length, MESH_LOW)
      })
    })
    const t1 = performance.now()
    let meshFormed = true
    try {
      await waitUntil(meshReady, { timeoutMs: MESH_TIMEOUT_MS, intervalMs: 200, message: 'gossip meshes on every class' })
    } catch {
      meshFormed = false
      log('  meshes not complete after the deadline; publishing anyway')
    }
    const meshMs = performance.now() - t1
    const degrees = nodes.map(node => node.p2p.peers().length)
    log(`  meshes ${meshFormed ? 'formed' : 'incomplete'} after ${(meshMs / 1000).toFixed(1)} s; connections per node min ${Math.min(...degrees)} max ${Math.max(...degrees)}`)

    const workload = new Workload({ seed: 62, idPrefix: `scale-${Date.now().toString(36)}` })
    const published = new Map<string, { node: number, at: number }>()
    let failed = 0
    const tPub = performance.now()
    for (let k = 0; k < events; k++) {
      const due = tPub + (k * 1000) / PUBLISH_RATE
      const wait = due - performance.now()
      if (wait > 0) await sleep(wait)
      const origin = Math.floor(rand() * n)
      try {
        const [receipt] = await withTimeout((nodes[origin] as CdgossipNode).publish([{ cdevent: workload.next() }]), PUBLISH_TIMEOUT_MS)
        if (receipt !== undefined) published.set(receipt.digest, { node: origin, at: performance.now() })
      } catch {
        failed++
      }
    }
    const expected = published.size * (n - 1)
    const delivered = (): number => {
      let count = 0
      for (const digest of published.keys()) count += arrivals.get(digest)?.size ?? 0
      return count
    }
    let drained = true
    try {
      await waitUntil(() => delivered() >= expected, { timeoutMs: DELIVERY_TIMEOUT_MS, intervalMs: 100, message: 'every node holding every event' })
    } catch {
      drained = false
    }
    const latencies: number[] = []
    const toAll: number[] = []
    for (const [digest, p] of published) {
      const m = arrivals.get(digest)
      if (m === undefined) continue
      let last = 0
      for (const at of m.values()) {
        latencies.push(at - p.at)
        last = Math.max(last, at - p.at)
      }
      if (m.size >= n - 1) toAll.push(last)
    }
    const got = delivered()
    const ratio = expected === 0 ? Number.NaN : got / expected
    const propagation = summarize(latencies)
    const reachAll = summarize(toAll)
    const rssGrowth = round(rssPeak - rssBefore, 1)
    log(`  delivery ${got}/${expected} (${(ratio * 100).toFixed(2)} %), propagation p50 ${propagation.p50} p99 ${propagation.p99} max ${propagation.max} ms; to all nodes p99 ${reachAll.p99} ms`)

    const figures: Figure[] = [
      {
        id: 'scale.delivery',
        label: `${n}-node mesh delivery ratio (${published.size} events at random nodes)`,
        unit: '%',
        cdgossip: round(ratio * 100, 2),
        baseline: undefined,
        better: 'higher',
        note: 'n/a (one broker)'
      },
      { id: 'scale.p50', label: `${n}-node propagation latency p50 (publish → stored at a node)`, unit: 'ms', cdgossip: propagation.p50, baseline: undefined, better: 'lower', note: 'n/a' },
      { id: 'scale.p99', label: `${n}-node propagation latency p99`, unit: 'ms', cdgossip: propagation.p99, baseline: undefined, better: 'lower', note: 'n/a' },
      { id: 'scale.max', label: `${n}-node propagation latency max`, unit: 'ms', cdgossip: propagation.max, baseline: undefined, better: 'lower', note: 'n/a' },
      { id: 'scale.all.p99', label: `${n}-node time until every node holds an event, p99`, unit: 'ms', cdgossip: reachAll.p99, baseline: undefined, better: 'lower', note: 'n/a' }
    ]
    const notes = [
      `${n} cdgossip nodes in ONE process (shared event loop and heap) over libp2p's memory transport, production gossip timing (1 s heartbeat, 30 s sync interval). Each node dialled up to ${DIALS} random earlier nodes (${edges} dials; connections per node ${Math.min(...degrees)}–${Math.max(...degrees)}); each trusts all others and subscribes to \`*\`. Started in ${(startMs / 1000).toFixed(1)} s, meshes on the ${classes.length} workload classes ${meshFormed ? 'formed' : 'NOT complete'} ${(meshMs / 1000).toFixed(1)} s later.`,
      `${published.size} events (${failed} publish failures) published at ${PUBLISH_RATE}/s (${rate(published.size, performance.now() - tPub)}/s achieved incl. the drain) at random nodes through the node API in-process; delivery counted per (event, other node) within ${DELIVERY_TIMEOUT_MS / 1000} s after the last publish${drained ? '' : ' (NOT all delivered by then)'}. The process's RSS grew by ${rssGrowth} MiB for all ${n} nodes (sampled every ${RSS_SAMPLE_MS} ms: ${rssBefore} → ${rssPeak} MiB), ≈ ${round(rssGrowth / n, 1)} MiB per node.`,
      `Latency = from the publishing node's accept to the record stored at the receiving node (all in one event loop, so it includes queueing behind the other nodes' work). Per-event time until all ${n - 1} other nodes held it: p50 ${reachAll.p50}, p99 ${reachAll.p99}, max ${reachAll.max} ms.`
    ]
    return {
      name: 'scale',
      figures,
      raw: { nodes: n, dials: edges, degrees, startMs: round(startMs, 0), meshMs: round(meshMs, 0), meshFormed, published: published.size, failed, expected, delivered: got, drained, propagation, reachAll, memory: { rssBeforeMiB: rssBefore, rssPeakMiB: rssPeak, perNodeMiB: round(rssGrowth / n, 1) } },
      notes,
      durationMs: performance.now() - started
    }
  } finally {
    clearInterval(sampler)
    for (const node of [...nodes].reverse()) await node.stop().catch(() => {})
    unregister()
  }
}

async function withTimeout<T> (promise: Promise<T>, ms: number): Promise<T> {
  let timer: NodeJS.Timeout | undefined
  try {
    return await Promise.race([promise, new Promise<never>((_resolve, reject) => { timer = setTimeout(() => { reject(new Error(`timed out after ${ms} ms`)) }, ms) })])
  } finally {
    clearTimeout(timer)
  }
}
