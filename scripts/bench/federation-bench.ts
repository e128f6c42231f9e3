import { closedLoop, openLoop, SseWatcher, type LoopResult } from './http-load.js'
import type { BenchContext, Figure, PartResult } from './context.js'
import { dirFor, withBroker, withNats } from './context.js'
import { cpuPerEventUs, describeRecipe, efficiencyOf, FEDERATION_FLOOR, floorPerEventUs } from './efficiency.js'
import { floorNote, floorOf } from './floor.js'
import { declareStream, deleteStream, JetStreamConsumer, JetStreamPublisher } from './nats.js'
import { describeCpu, describeThreadSplit, meterPhase, type CpuUsage, type ThreadCpu } from './proc-cpu.js'
import { describeBreakdown, memoryBreakdownOf, type MemoryBreakdown } from './memory-breakdown.js'
import { DeliveryTracker, type DeliverySummary } from './delivery.js'
import { NodeProcess, type NodeMemory } from './node-process.js'
import { Payloads, runPrefix, type Payload } from './payloads.js'
import { ACK_EVERY, CONSUMER_PREFETCH, AmqpConsumer, AmqpPublisher, deleteTopology } from './rabbitmq.js'
import { medianBy, ratio, waitUntil } from './stats.js'
import { CdgossipTarget, NatsTarget, RabbitTarget, type PublishTarget } from './publish-targets.js'

/**
 * Figures 2 and 5: three communities on 127.0.0.1, each node its own process. A publishes over
 * REST; B and C trust A and subscribe to everything; C dials A and B, B dials A (a full mesh).
 * Availability at B and C is the moment their SSE stream (GET /v1/stream) delivers the record.
 * Measured at a fixed rate (latency) and at saturation (delivered throughput, latency under load).
 * Baseline: one RabbitMQ broker, durable topic exchange, persistent messages with publisher
 * confirms, one durable queue per subscribing community, consumers with manual acks.
 */

/**
 * Open-loop sends outstanding at most; beyond it the target is not keeping up and further sends
 * are skipped (counted), so an overloaded node is not buried under timeouts.
 */
const MAX_OPEN_IN_FLIGHT = 256
/** After the last publish, wait this long at most for subscribers to get everything. */
const DRAIN_TIMEOUT_MS = 30_000
/** Seconds of the light-load phase (enough samples for a p99 at 50/s). */
const LIGHT_SECONDS = 5
/**
 * Seconds at the fixed rate before its measured window. The step from light load to the fixed
 * rate costs a node a second or two of catching up (V8 optimising the hot path under load, buffers
 * growing); that transient is reported as its own figure, the fixed-rate figures are steady state.
 */
const RAMP_SECONDS = 2
/** Warm-up rounds (one event of each class) until both subscribers receive one. */
const WARMUP_ROUNDS = 15
const WARMUP_ROUND_MS = 2000

export interface PhaseResult {
  loop: LoopResult
  delivery: DeliverySummary
  drained: boolean
}

export interface SystemResult {
  lightRate: PhaseResult
  ramp: PhaseResult
  /** the window with the median p99 (of fixedWindows) */
  fixedRate: PhaseResult
  fixedWindows: PhaseResult[]
  saturation: PhaseResult
  memory: Record<string, NodeMemory | undefined>
  /** CPU of every process during the saturation phase */
  cpu?: CpuUsage
  /** cdgossip: the nodes' CPU during the saturation phase by kind of thread, summed over A, B and C */
  threads?: ThreadCpu
  /** where each node's memory is right after the saturation phase */
  breakdown?: Record<string, MemoryBreakdown | undefined>
  extra?: Record<string, unknown>
}

/** One publish of the next payload, its send and accept times recorded. */
function trackedSend (target: PublishTarget, payloads: Payloads, tracker: DeliveryTracker): () => Promise<void> {
  return async () => {
    const payload = payloads.next()
    const sentAt = performance.now()
    const key = await target.publish(payload)
    tracker.accepted(key, sentAt, performance.now())
  }
}

/** Waits for the subscribers to get everything accepted, then sums the phase up (latency at C). */
async function settle (loop: LoopResult, tracker: DeliveryTracker): Promise<PhaseResult> {
  const drained = await tracker.drain(DRAIN_TIMEOUT_MS)
  return { loop, delivery: tracker.summary(1), drained }
}

/** `count` measured windows at `ratePerSec`, each tracked on its own. */
async function fixedRateWindows (target: PublishTarget, payloads: Payloads, ratePerSec: number, seconds: number, count: number, track: (tracker: DeliveryTracker) => void): Promise<{ median: PhaseResult, windows: PhaseResult[] }> {
  const windows: PhaseResult[] = []
  for (let i = 0; i < count; i++) {
    const tracker = new DeliveryTracker(['B', 'C'])
    track(tracker)
    windows.push(await fixedRatePhase(target, payloads, tracker, ratePerSec, seconds))
  }
  return { median: medianBy(windows, w => w.delivery.acceptToSubscriberMs.p99), windows }
}

async function fixedRatePhase (target: PublishTarget, payloads: Payloads, tracker: DeliveryTracker, ratePerSec: number, seconds: number): Promise<PhaseResult> {
  const loop = await openLoop({
    total: ratePerSec * seconds,
    ratePerSec,
    maxInFlight: MAX_OPEN_IN_FLIGHT,
    maxMs: seconds * 1000 + 1000,
    send: trackedSend(target, payloads, tracker)
  })
  return await settle(loop, tracker)
}

async function saturationPhase (target: PublishTarget, payloads: Payloads, tracker: DeliveryTracker, inFlight: number, seconds: number): Promise<PhaseResult> {
  const loop = await closedLoop({
    total: 1_000_000,
    inFlight,
    maxMs: seconds * 1000,
    send: trackedSend(target, payloads, tracker)
  })
  return await settle(loop, tracker)
}

/** Sends rounds of one-of-each-class until every subscriber got a round (meshes formed). */
async function warmup (publish: (p: Payload) => Promise<string>, payloads: Payloads, tracker: DeliveryTracker): Promise<number> {
  for (let round = 1; round <= WARMUP_ROUNDS; round++) {
    const keys = await Promise.all(payloads.warmup().map(publish))
    try {
      await waitUntil(() => keys.every(k => tracker.arrivals.every(m => m.has(k))), { timeoutMs: WARMUP_ROUND_MS, intervalMs: 50, message: 'warm-up delivery' })
      return round
    } catch { /* next round */ }
  }
  throw new Error(`subscribers did not receive warm-up events after ${WARMUP_ROUNDS} rounds${tracker.arrivals.map((m, i) => ` (${tracker.subscribers[i] ?? i}: ${m.size} received)`).join('')}`)
}

export interface FederationNodes {
  a: NodeProcess
  b: NodeProcess
  c: NodeProcess
}

/** Starts A, B and C as processes (optionally with extra node flags such as --cpu-prof). */
async function startFederation (ctx: BenchContext, name: string, nodeArgs: (node: string) => string[] = () => []): Promise<FederationNodes> {
  const a = await NodeProcess.create('A', dirFor(ctx, name, 'a'))
  const b = await NodeProcess.create('B', dirFor(ctx, name, 'b'))
  const c = await NodeProcess.create('C', dirFor(ctx, name, 'c'))
  await a.configure({})
  await a.start(nodeArgs('A'))
  const trust = [{ peerId: a.peerId, name: 'community-a' }]
  await b.configure({ bootstrap: [a.address], trust, subscribe: ['*'] })
  await b.start(nodeArgs('B'))
  await c.configure({ bootstrap: [a.address, b.address], trust, subscribe: ['*'] })
  await c.start(nodeArgs('C'))
  await waitUntil(async () => (await a.api().getJson<unknown[]>('/v1/peers')).length >= 2, { timeoutMs: 20_000, intervalMs: 100, message: 'A connected to B and C' })
  return { a, b, c }
}

/** SSE watchers on B and C feeding `tracker` (subscriber 0 = B, 1 = C). */
async function watchSubscribers (nodes: FederationNodes, tracker: () => DeliveryTracker): Promise<SseWatcher[]> {
  const watchers = [nodes.b, nodes.c].map((n, i) => new SseWatcher(n.apiUrl, n.token, (digest, at) => { tracker().arrived(i, digest, at) }))
  // not awaited: the node sends the stream's headers with its first frame (a record, or the
  // heartbeat 15 s later); the warm-up's deliveries prove the streams are live
  for (const w of watchers) w.start().catch(() => {})
  return watchers
}

/** A started federation after its warm-up, as `withWarmFederation` hands it to its caller. */
export interface WarmFederation {
  nodes: FederationNodes
  /** publishes at A */
  target: CdgossipTarget
  /** the payloads, past the warm-up's */
  payloads: Payloads
  /** warm-up rounds until both subscribers got one */
  warmupRounds: number
  watchers: readonly SseWatcher[]
  /** where B's and C's deliveries go: a fresh one after the warm-up; a phase may set its own */
  tracker: DeliveryTracker
}

/**
 * Starts A, B and C, watches B's and C's streams, warms the meshes up (a publish before they form
 * reaches nobody), runs `run`, and stops everything whether it succeeded or not.
 */
export async function withWarmFederation<T> (ctx: BenchContext, name: string, options: { seed: number, label: string, nodeArgs?: (node: string) => string[] }, run: (federation: WarmFederation) => Promise<T>): Promise<T> {
  const nodes = await startFederation(ctx, name, options.nodeArgs)
  const federation: WarmFederation = {
    nodes,
    target: new CdgossipTarget(nodes.a.api()),
    payloads: new Payloads({ seed: options.seed, idPrefix: runPrefix(options.label) }),
    warmupRounds: 0,
    watchers: [],
    tracker: new DeliveryTracker(['B', 'C'])
  }
  try {
    federation.watchers = await watchSubscribers(nodes, () => federation.tracker)
    federation.warmupRounds = await warmup(async p => await federation.target.publish(p), federation.payloads, federation.tracker)
    federation.tracker = new DeliveryTracker(['B', 'C'])
    return await run(federation)
  } finally {
    for (const w of federation.watchers) w.close()
    await Promise.all([nodes.c, nodes.b, nodes.a].map(async n => { await n.stop() }))
  }
}

/**
 * A baseline's phases, the same as cdgossip's: `subscribe` attaches the two consumers, which
 * report arrivals (subscriber 0 = B, 1 = C) to whichever tracker the current phase uses.
 */
async function baselinePhases (target: PublishTarget, subscribe: (arrived: (index: number, key: string, at: number) => void) => Promise<void>, pids: Record<string, number>, ctx: BenchContext): Promise<Omit<SystemResult, 'memory'>> {
  const { options, log } = ctx
  let tr = new DeliveryTracker(['B', 'C'])
  await subscribe((i, key, at) => { tr.arrived(i, key, at) })
  const payloads = new Payloads({ seed: 21, idPrefix: runPrefix('fed') })
  await warmup(async p => await target.publish(p), payloads, tr)
  tr = new DeliveryTracker(['B', 'C'])
  const light = await fixedRatePhase(target, payloads, tr, options.lightRate, LIGHT_SECONDS)
  tr = new DeliveryTracker(['B', 'C'])
  const ramp = await fixedRatePhase(target, payloads, tr, options.fixedRate, RAMP_SECONDS)
  const { median: fixed, windows: fixedWindows } = await fixedRateWindows(target, payloads, options.fixedRate, options.measureSeconds, options.fixedWindows, t => { tr = t })
  for (const w of fixedWindows) log(`  ${target.system} ${options.fixedRate}/s: accept→C p50 ${w.delivery.acceptToSubscriberMs.p50} p99 ${w.delivery.acceptToSubscriberMs.p99} ms; send→C p99 ${w.delivery.sendToSubscriberMs.p99} ms`)
  tr = new DeliveryTracker(['B', 'C'])
  const { phase: saturation, cpu } = await meteredSaturation(target, payloads, tr, options.inFlight, options.measureSeconds, pids)
  log(`  ${target.system} saturation: delivered at B and C ${saturation.delivery.deliveredPerSec}/s, send→C p99 ${saturation.delivery.sendToSubscriberMs.p99} ms, CPU ${saturationCpuUs(cpu, saturation)} µs per delivered event`)
  return { lightRate: light, ramp, fixedRate: fixed, fixedWindows, saturation, cpu }
}

/**
 * The saturation phase with the CPU every process in `pids` used during it (drain included), and
 * that of the `nodes`' threads by kind: whether LevelDB compacted or V8 compiled in the phase
 * moves its figures (BENCHMARKS.md, round 13).
 */
async function meteredSaturation (target: PublishTarget, payloads: Payloads, tracker: DeliveryTracker, inFlight: number, seconds: number, pids: Record<string, number>, nodes: readonly number[] = []): Promise<{ phase: PhaseResult, cpu: CpuUsage, threads?: ThreadCpu }> {
  const { result: phase, usage: cpu, threads } = await meterPhase(pids, nodes, async () => await saturationPhase(target, payloads, tracker, inFlight, seconds))
  return { phase, cpu, ...(threads === undefined ? {} : { threads }) }
}

/** CPU per event held by both B and C in the saturation phase. */
function saturationCpuUs (cpu: CpuUsage | undefined, phase: PhaseResult): number | undefined {
  return cpuPerEventUs(cpu?.totalMs, phase.delivery.deliveredEverywhere)
}

export async function runFederation (ctx: BenchContext): Promise<PartResult> {
  const started = performance.now()
  const { options, log } = ctx
  const notes: string[] = []

  const floor = floorOf(ctx)
  const floorUs = floorPerEventUs(await floor, FEDERATION_FLOOR)
  log('federation: cdgossip A → B, C (three processes)')
  const cdg = await withWarmFederation(ctx, 'federation', { seed: 21, label: 'fed' }, async (federation): Promise<SystemResult> => {
    const { nodes, target, payloads } = federation
    log(`  meshes ready after ${federation.warmupRounds} warm-up round(s)`)
    const light = await fixedRatePhase(target, payloads, federation.tracker, options.lightRate, LIGHT_SECONDS)
    log(`  cdgossip ${options.lightRate}/s: 202→C p50 ${light.delivery.acceptToSubscriberMs.p50} p99 ${light.delivery.acceptToSubscriberMs.p99} max ${light.delivery.acceptToSubscriberMs.max} ms`)
    federation.tracker = new DeliveryTracker(['B', 'C'])
    const ramp = await fixedRatePhase(target, payloads, federation.tracker, options.fixedRate, RAMP_SECONDS)
    log(`  cdgossip first ${RAMP_SECONDS} s at ${options.fixedRate}/s: 202→C p50 ${ramp.delivery.acceptToSubscriberMs.p50} p99 ${ramp.delivery.acceptToSubscriberMs.p99} ms`)
    const { median: fixed, windows: fixedWindows } = await fixedRateWindows(target, payloads, options.fixedRate, options.measureSeconds, options.fixedWindows, t => { federation.tracker = t })
    for (const w of fixedWindows) log(`  cdgossip ${options.fixedRate}/s: 202→C p50 ${w.delivery.acceptToSubscriberMs.p50} p99 ${w.delivery.acceptToSubscriberMs.p99} max ${w.delivery.acceptToSubscriberMs.max} ms, delivered ${w.delivery.deliveredEverywhere}/${w.delivery.accepted}`)
    federation.tracker = new DeliveryTracker(['B', 'C'])
    const pids = { A: nodes.a.pid ?? -1, B: nodes.b.pid ?? -1, C: nodes.c.pid ?? -1, bench: process.pid }
    const { phase: saturation, cpu, threads } = await meteredSaturation(target, payloads, federation.tracker, options.inFlight, options.measureSeconds, pids, [pids.A, pids.B, pids.C])
    log(`  cdgossip saturation: accepted ${saturation.delivery.acceptedPerSec}/s, delivered at B and C ${saturation.delivery.deliveredPerSec}/s, 202→C p99 ${saturation.delivery.acceptToSubscriberMs.p99} ms (drained: ${String(saturation.drained)}), CPU ${saturationCpuUs(cpu, saturation)} µs per delivered event (${describeCpu(cpu)})`)
    const memory = { A: await nodes.a.memory(), B: await nodes.b.memory(), C: await nodes.c.memory() }
    log(`  peak RSS A ${memory.A?.peakRssMiB ?? '?'} MiB, B ${memory.B?.peakRssMiB ?? '?'} MiB, C ${memory.C?.peakRssMiB ?? '?'} MiB`)
    const breakdown = { A: await memoryBreakdownOf(nodes.a.api()), B: await memoryBreakdownOf(nodes.b.api()), C: await memoryBreakdownOf(nodes.c.api()) }
    for (const [name, m] of Object.entries(breakdown)) log(`  ${describeBreakdown(name, m)}`)
    return { lightRate: light, ramp, fixedRate: fixed, fixedWindows, saturation, memory, cpu, ...(threads === undefined ? {} : { threads }), breakdown, extra: { warmupRounds: federation.warmupRounds, sse: federation.watchers.map(w => ({ received: w.received, overflows: w.overflows, reconnects: w.reconnects })) } }
  })

  log('federation: RabbitMQ baseline (exchange → queues community-b, community-c)')
  const rabbit = await withBroker(ctx, 'federation', async (broker) => {
    const exchange = 'cdevents'
    const queues = ['community-b', 'community-c']
    for (const q of queues) await AmqpConsumer.declare(broker.url, exchange, q)
    const publisher = await AmqpPublisher.open(broker.url, exchange)
    const consumers = await Promise.all(queues.map(async q => await AmqpConsumer.open(broker.url, q, CONSUMER_PREFETCH)))
    try {
      const phases = await baselinePhases(new RabbitTarget(publisher), async arrived => {
        for (const [i, c] of consumers.entries()) await c.consume((id, at) => { arrived(i, id, at) })
      }, { broker: broker.pid, bench: process.pid }, ctx)
      const result: SystemResult = { ...phases, memory: { broker: await broker.memory() }, extra: { version: broker.version } }
      return result
    } finally {
      for (const c of consumers) await c.close()
      await publisher.close()
      await deleteTopology(broker.url, exchange, queues)
    }
  })
  log('federation: NATS JetStream baseline (stream → durable consumers community-b, community-c)')
  const nats = await withNats(ctx, 'federation', async (server) => {
    const durables = ['community-b', 'community-c']
    await declareStream(server.url, durables)
    const publisher = await JetStreamPublisher.open(server.url)
    const consumers = await Promise.all(durables.map(async d => await JetStreamConsumer.open(server.url, d, CONSUMER_PREFETCH)))
    try {
      const phases = await baselinePhases(new NatsTarget(publisher), async arrived => {
        for (const [i, c] of consumers.entries()) await c.consume((key, at) => { arrived(i, key, at) })
      }, { server: server.pid, bench: process.pid }, ctx)
      const result: SystemResult = { ...phases, memory: { server: await server.memory() } }
      return result
    } finally {
      for (const c of consumers) await c.close()
      await publisher.close()
      await deleteStream(server.url)
    }
  })
  const js = 'skipped' in nats ? undefined : nats
  if ('skipped' in nats) notes.push(nats.skipped)
  const base = 'skipped' in rabbit ? undefined : rabbit
  if ('skipped' in rabbit) notes.push(rabbit.skipped)

  notes.push(
    `Three cdgossip nodes, each its own process (\`node bin/cdgossip.js start\`), production gossip timing (1 s heartbeat): A publishes over REST, B and C trust A and subscribe to \`*\`; B dials A, C dials A and B. "Available at C" = the record's frame arrives on C's SSE stream (GET /v1/stream).`,
    `Light load: ${options.lightRate} events/s open loop for ${LIGHT_SECONDS} s (latency without queueing). Fixed rate: ${options.fixedRate} events/s open loop, ${RAMP_SECONDS} s reported apart as the step up from light load, then ${options.fixedWindows} windows of ${options.measureSeconds} s measured back to back (steady state); the fixed-rate figures come from the window with the median p99, except the max, which is over all windows. Saturation: ${options.inFlight} publish requests in flight for ${options.measureSeconds} s; delivered throughput = events held by both B and C / (last arrival at B or C − first send).`,
    'Latency "202→C" starts at the HTTP 202 (RabbitMQ: the publisher confirm; a RabbitMQ consumer often has the message before its confirm, hence near-zero or negative values); "send→C" starts when the publish request leaves the client and is the like-for-like comparison.',
    `NATS JetStream: one nats-server, one stream with file storage for \`cdevents.>\`, publishes resolving on the stream's ack, durable pull consumers community-b and community-c (explicit ack of every message, up to ${CONSUMER_PREFETCH} messages pulled ahead), each on its own connection; keys are stream sequences.`,
    `RabbitMQ: one broker, durable topic exchange, persistent messages, publisher confirms, durable queues community-b and community-c bound with \`#\`, one consumer connection per community (prefetch ${CONSUMER_PREFETCH}, acks every ${ACK_EVERY} messages).`
  )
  const f = cdg.fixedRate.delivery
  const s = cdg.saturation.delivery
  const bf = base?.fixedRate.delivery
  const bs = base?.saturation.delivery
  const jf = js?.fixedRate.delivery
  const jss = js?.saturation.delivery
  const worstOf = (windows: PhaseResult[]): number => Math.max(...windows.map(w => w.delivery.acceptToSubscriberMs.max))
  const p99s = (windows: PhaseResult[]): string => windows.map(w => `${w.delivery.acceptToSubscriberMs.p99} ms`).join(', ')
  notes.push(`202→C p99 of the ${options.fixedWindows} fixed-rate windows, in order: cdgossip ${p99s(cdg.fixedWindows)}${base === undefined ? '' : `; RabbitMQ ${p99s(base.fixedWindows)}`}${js === undefined ? '' : `; NATS JetStream ${p99s(js.fixedWindows)}`}.`)
  const efficiency = cdg.cpu === undefined ? undefined : efficiencyOf(floorUs, cdg.cpu.totalMs, s.deliveredEverywhere)
  const cpuText = (r: SystemResult): string => r.cpu === undefined ? '?' : `${describeCpu(r.cpu)} for ${r.saturation.delivery.deliveredEverywhere} events`
  notes.push(
    `CPU per delivered event: user + system time of every process (each node with its verify workers and LevelDB threads, the broker or server, and the bench client with its HTTP, SSE and AMQP/NATS clients) from /proc/<pid>/stat over the saturation phase including its drain, divided by the events held by both B and C. Saturation phase: cdgossip ${cpuText(cdg)}${base === undefined ? '' : `; RabbitMQ ${cpuText(base)}`}${js === undefined ? '' : `; NATS JetStream ${cpuText(js)}`}.${cdg.threads === undefined ? '' : ` The three nodes together, µs per delivered event by kind of thread: ${describeThreadSplit(cdg.threads, s.deliveredEverywhere)}; LevelDB's share rises when a compaction falls in the phase (BENCHMARKS.md, round 13).`}`,
    `Efficiency floor of one federated event: ${describeRecipe(FEDERATION_FLOOR)} = ${floorUs} µs (see "The per-event floor"). ${floorNote(await floor)}`
  )
  const peakNode = Math.max(...Object.values(cdg.memory).map(m => m?.peakRssMiB ?? 0))
  const figures: Figure[] = [
    {
      id: 'federation.light.p50',
      label: `E2E latency p50 at ${options.lightRate}/s (light load), 202→C`,
      unit: 'ms',
      cdgossip: cdg.lightRate.delivery.acceptToSubscriberMs.p50,
      baseline: base?.lightRate.delivery.acceptToSubscriberMs.p50,
      nats: js?.lightRate.delivery.acceptToSubscriberMs.p50,
      better: 'lower',
      comparable: false
    },
    {
      id: 'federation.light.p99',
      label: `E2E latency p99 at ${options.lightRate}/s (light load), 202→C`,
      unit: 'ms',
      cdgossip: cdg.lightRate.delivery.acceptToSubscriberMs.p99,
      baseline: base?.lightRate.delivery.acceptToSubscriberMs.p99,
      nats: js?.lightRate.delivery.acceptToSubscriberMs.p99,
      better: 'lower',
      comparable: false
    },
    {
      id: 'federation.light.send.p99',
      label: `E2E latency p99 at ${options.lightRate}/s (light load), send→C`,
      unit: 'ms',
      cdgossip: cdg.lightRate.delivery.sendToSubscriberMs.p99,
      baseline: base?.lightRate.delivery.sendToSubscriberMs.p99,
      nats: js?.lightRate.delivery.sendToSubscriberMs.p99,
      better: 'lower'
    },
    {
      id: 'federation.fixed.accepted',
      label: `Fixed-rate phase: accepted rate (offered ${options.fixedRate}/s)`,
      unit: 'events/s',
      cdgossip: f.acceptedPerSec,
      baseline: bf?.acceptedPerSec,
      nats: jf?.acceptedPerSec,
      better: 'higher',
      note: `${cdg.fixedRate.loop.skipped ?? 0} sends skipped (over ${MAX_OPEN_IN_FLIGHT} in flight)`
    },
    {
      id: 'federation.delivered',
      label: 'Federation delivered throughput (stored at B and C)',
      unit: 'events/s',
      cdgossip: s.deliveredPerSec,
      baseline: bs?.deliveredPerSec,
      nats: jss?.deliveredPerSec,
      better: 'higher'
    },
    {
      id: 'federation.fixed.p50',
      label: `E2E latency p50 at ${options.fixedRate}/s, 202→C`,
      unit: 'ms',
      cdgossip: f.acceptToSubscriberMs.p50,
      baseline: bf?.acceptToSubscriberMs.p50,
      nats: jf?.acceptToSubscriberMs.p50,
      better: 'lower',
      comparable: false
    },
    {
      id: 'federation.fixed.p99',
      label: `E2E latency p99 at ${options.fixedRate}/s, 202→C (median of ${options.fixedWindows} windows)`,
      unit: 'ms',
      cdgossip: f.acceptToSubscriberMs.p99,
      baseline: bf?.acceptToSubscriberMs.p99,
      nats: jf?.acceptToSubscriberMs.p99,
      better: 'lower',
      comparable: false
    },
    {
      id: 'federation.ramp.p99',
      label: `E2E latency p99, first ${RAMP_SECONDS} s at ${options.fixedRate}/s (step up from light load), 202→C`,
      unit: 'ms',
      cdgossip: cdg.ramp.delivery.acceptToSubscriberMs.p99,
      baseline: base?.ramp.delivery.acceptToSubscriberMs.p99,
      nats: js?.ramp.delivery.acceptToSubscriberMs.p99,
      better: 'lower',
      comparable: false
    },
    {
      id: 'federation.fixed.max',
      label: `E2E latency max at ${options.fixedRate}/s, 202→C (all windows)`,
      unit: 'ms',
      cdgossip: worstOf(cdg.fixedWindows),
      baseline: base === undefined ? undefined : worstOf(base.fixedWindows),
      nats: js === undefined ? undefined : worstOf(js.fixedWindows),
      better: 'lower',
      comparable: false
    },
    {
      id: 'federation.fixed.send.p99',
      label: `E2E latency p99 at ${options.fixedRate}/s, send→C`,
      unit: 'ms',
      cdgossip: f.sendToSubscriberMs.p99,
      baseline: bf?.sendToSubscriberMs.p99,
      nats: jf?.sendToSubscriberMs.p99,
      better: 'lower'
    },
    {
      id: 'federation.saturation.p50',
      label: 'E2E latency p50 at saturation, 202→C',
      unit: 'ms',
      cdgossip: s.acceptToSubscriberMs.p50,
      baseline: bs?.acceptToSubscriberMs.p50,
      nats: jss?.acceptToSubscriberMs.p50,
      better: 'lower',
      comparable: false
    },
    {
      id: 'federation.saturation.p99',
      label: 'E2E latency p99 at saturation, 202→C',
      unit: 'ms',
      cdgossip: s.acceptToSubscriberMs.p99,
      baseline: bs?.acceptToSubscriberMs.p99,
      nats: jss?.acceptToSubscriberMs.p99,
      better: 'lower',
      comparable: false
    },
    {
      id: 'federation.saturation.max',
      label: 'E2E latency max at saturation, 202→C',
      unit: 'ms',
      cdgossip: s.acceptToSubscriberMs.max,
      baseline: bs?.acceptToSubscriberMs.max,
      nats: jss?.acceptToSubscriberMs.max,
      better: 'lower',
      comparable: false
    },
    {
      id: 'federation.saturation.send.p99',
      label: 'E2E latency p99 at saturation, send→C',
      unit: 'ms',
      cdgossip: s.sendToSubscriberMs.p99,
      baseline: bs?.sendToSubscriberMs.p99,
      nats: jss?.sendToSubscriberMs.p99,
      better: 'lower'
    },
    {
      id: 'memory.federation',
      label: 'Peak RSS during federation, largest node (A/B/C) vs broker / server',
      unit: 'MiB',
      cdgossip: peakNode,
      baseline: base?.memory.broker?.peakRssMiB,
      nats: js?.memory.server?.peakRssMiB,
      better: 'lower',
      note: `A ${cdg.memory.A?.peakRssMiB ?? '?'}, B ${cdg.memory.B?.peakRssMiB ?? '?'}, C ${cdg.memory.C?.peakRssMiB ?? '?'} MiB`
    },
    {
      id: 'federation.cpuPerEvent',
      label: 'CPU per event delivered at B and C, saturation (all processes)',
      unit: 'µs',
      cdgossip: saturationCpuUs(cdg.cpu, cdg.saturation),
      baseline: base === undefined ? undefined : saturationCpuUs(base.cpu, base.saturation),
      nats: js === undefined ? undefined : saturationCpuUs(js.cpu, js.saturation),
      better: 'lower'
    },
    {
      id: 'federation.efficiency',
      label: `Federation efficiency: floor (${floorUs} µs) ÷ CPU per delivered event`,
      unit: '%',
      cdgossip: efficiency?.percent,
      baseline: undefined,
      better: 'higher',
      note: 'n/a'
    }
  ]
  notes.push(`Fixed-rate phase achieved: cdgossip accepted ${f.acceptedPerSec}/s (${cdg.fixedRate.loop.skipped ?? 0} sends skipped because ${MAX_OPEN_IN_FLIGHT} were outstanding, ${cdg.fixedRate.loop.failed} failed)${bf === undefined ? '' : `, RabbitMQ confirmed ${bf.acceptedPerSec}/s (${base?.fixedRate.loop.skipped ?? 0} skipped)`}. Delivered everywhere: cdgossip ${f.deliveredEverywhere}/${f.accepted} at ${options.fixedRate}/s, ${s.deliveredEverywhere}/${s.accepted} at saturation${cdg.saturation.drained && cdg.fixedRate.drained ? '' : ` (not all within ${DRAIN_TIMEOUT_MS / 1000} s)`}.`)
  notes.push(`Peak RSS (VmHWM of each process): A ${cdg.memory.A?.peakRssMiB ?? '?'} MiB, B ${cdg.memory.B?.peakRssMiB ?? '?'} MiB, C ${cdg.memory.C?.peakRssMiB ?? '?'} MiB${base === undefined ? '' : `; RabbitMQ beam.smp ${base.memory.broker?.peakRssMiB ?? '?'} MiB (one broker serves all three communities)`}${js === undefined ? '' : `; nats-server ${js.memory.server?.peakRssMiB ?? '?'} MiB`}. Right after the saturation phase (each node's GET /metrics): ${Object.entries(cdg.breakdown ?? {}).map(([n, m]) => describeBreakdown(n, m)).join('; ')} MiB.`)
  return {
    name: 'federation',
    figures,
    raw: { cdgossip: cdg, rabbitmq: base ?? rabbit, nats: js ?? nats, efficiency, floorUs, ratios: { delivered: ratio(s.deliveredPerSec, bs?.deliveredPerSec), deliveredNats: ratio(s.deliveredPerSec, jss?.deliveredPerSec) } },
    notes,
    durationMs: performance.now() - started
  }
}
