import { closedLoop } from './http-load.js'
import type { BenchContext, Figure, PartResult } from './context.js'
import { dirFor, withBroker, withNats } from './context.js'
import { NodeProcess } from './node-process.js'
import { Payloads, runPrefix } from './payloads.js'
import { AmqpConsumer, AmqpPublisher, deleteTopology } from './rabbitmq.js'
import { declareStream, deleteStream, JetStreamPublisher } from './nats.js'
import { rate, ratio, summarize, type LatencySummary } from './stats.js'
import { CdgossipTarget, NatsTarget, RabbitTarget, type PublishTarget } from './publish-targets.js'
import { describeThreadSplit, meterPhase, type CpuUsage, type ThreadCpu } from './proc-cpu.js'

/**
 * Figure 1: publish throughput of one node: events/s accepted (HTTP 202 = validated, signed,
 * stored, handed to gossip), one event per request with a fixed number in flight, and batched.
 * Baseline: RabbitMQ publisher confirms of the same payloads into one durable queue.
 */

/** Requests before the measurement: JIT, Ajv and LevelDB warm up. */
const WARMUP_EVENTS = 300
/** Hard cap on events one measurement sends, whatever the time budget. */
const MAX_EVENTS = 200_000

export interface ThroughputResult {
  events: number
  elapsedMs: number
  eventsPerSec: number
  /** per request: accept latency (single: one event; batch: the whole batch) */
  latencyMs: LatencySummary
  failed: number
  firstError?: string
}

export async function measureSingle (target: PublishTarget, payloads: Payloads, options: { inFlight: number, maxMs: number, maxEvents?: number, onAccepted?: (key: string, sentAt: number, acceptedAt: number) => void }): Promise<ThroughputResult> {
  const latencies: number[] = []
  const loop = await closedLoop({
    total: options.maxEvents ?? MAX_EVENTS,
    inFlight: options.inFlight,
    maxMs: options.maxMs,
    send: async () => {
      const payload = payloads.next()
      const sentAt = performance.now()
      const key = await target.publish(payload)
      const acceptedAt = performance.now()
      latencies.push(acceptedAt - sentAt)
      options.onAccepted?.(key, sentAt, acceptedAt)
    }
  })
  return {
    events: loop.completed,
    elapsedMs: loop.elapsedMs,
    eventsPerSec: rate(loop.completed, loop.elapsedMs),
    latencyMs: summarize(latencies),
    failed: loop.failed,
    ...(loop.firstError === undefined ? {} : { firstError: loop.firstError })
  }
}

export async function measureBatch (target: PublishTarget, payloads: Payloads, options: { inFlight: number, batchSize: number, maxMs: number, maxEvents?: number, onAccepted?: (key: string, sentAt: number, acceptedAt: number) => void }): Promise<ThroughputResult> {
  const latencies: number[] = []
  let events = 0
  const loop = await closedLoop({
    total: Math.ceil((options.maxEvents ?? MAX_EVENTS) / options.batchSize),
    inFlight: options.inFlight,
    maxMs: options.maxMs,
    send: async () => {
      const { body, items } = payloads.batch(options.batchSize)
      const sentAt = performance.now()
      const keys = await target.publishBatch(body, items)
      const acceptedAt = performance.now()
      latencies.push(acceptedAt - sentAt)
      events += items.length
      for (const key of keys) options.onAccepted?.(key, sentAt, acceptedAt)
    }
  })
  return {
    events,
    elapsedMs: loop.elapsedMs,
    eventsPerSec: rate(events, loop.elapsedMs),
    latencyMs: summarize(latencies),
    failed: loop.failed,
    ...(loop.firstError === undefined ? {} : { firstError: loop.firstError })
  }
}

async function warmup (target: PublishTarget, payloads: Payloads): Promise<void> {
  const loop = await closedLoop({ total: WARMUP_EVENTS, inFlight: 8, maxMs: 20_000, send: async () => { await target.publish(payloads.next()) } })
  if (loop.failed > 0) throw new Error(`warm-up publishes failed: ${loop.firstError ?? ''}`)
}

/** CPU of the system's server process (the node, the broker, nats-server) and of the bench client over one phase. */
interface PhaseCpu { usage: CpuUsage, threads?: ThreadCpu }

interface SystemRun { single: ThroughputResult, batch: ThroughputResult, cpu: { single: PhaseCpu, batch: PhaseCpu }, peakRssMiB?: number }

/** Runs `phase` with the CPU of `server` (and, for a cdgossip node, of each kind of its threads) and of this process metered. */
async function metered<T> (server: number, threads: boolean, phase: () => Promise<T>): Promise<[T, PhaseCpu]> {
  const { result, usage, threads: split } = await meterPhase({ server, bench: process.pid }, threads ? [server] : [], phase)
  return [result, { usage, ...(split === undefined ? {} : { threads: split }) }]
}

/**
 * Warm-up, then single events and batches through `target`, with the same payload seed for every
 * system; the CPU of `server` (its pid) and of the bench client is metered over each phase.
 */
async function measureSystem (target: PublishTarget, server: { pid: number, threads: boolean }, options: BenchContext['options'], log: BenchContext['log']): Promise<Omit<SystemRun, 'peakRssMiB'>> {
  const payloads = new Payloads({ seed: 11, idPrefix: runPrefix('pub') })
  const maxMs = options.measureSeconds * 1000
  await warmup(target, payloads)
  const [single, singleCpu] = await metered(server.pid, server.threads, async () => await measureSingle(target, payloads, { inFlight: options.inFlight, maxMs }))
  log(`  ${target.system} single: ${single.eventsPerSec} events/s (${single.events} in ${Math.round(single.elapsedMs)} ms, p99 accept ${single.latencyMs.p99} ms)`)
  const [batch, batchCpu] = await metered(server.pid, server.threads, async () => await measureBatch(target, payloads, { inFlight: 4, batchSize: options.batchSize, maxMs }))
  log(`  ${target.system} batch:  ${batch.eventsPerSec} events/s (${batch.events} in ${Math.round(batch.elapsedMs)} ms)`)
  return { single, batch, cpu: { single: singleCpu, batch: batchCpu } }
}

/** µs per accepted event, rounded. */
function perEventUs (ms: number | undefined, events: number): number | undefined {
  return ms === undefined || events === 0 ? undefined : Math.round(ms * 1000 / events)
}

/**
 * `node 212 µs (event loop 150, LevelDB 50, V8 helpers 12), bench client 60 µs`: CPU per accepted
 * event of one phase, by process, and for a cdgossip node by kind of thread (kinds that used none
 * beyond the three always shown are left out).
 */
export function describePhaseCpu (cpu: PhaseCpu, events: number, serverName: string): string {
  const server = perEventUs(cpu.usage.byProcess.server, events)
  const bench = perEventUs(cpu.usage.byProcess.bench, events)
  const t = cpu.threads
  const split = t === undefined || t.libuv + t.v8 === 0 ? '' : ` (${describeThreadSplit(t, events)})`
  return `${serverName} ${server ?? '?'} µs${split}, bench client ${bench ?? '?'} µs`
}

function describeSystemCpu (run: SystemRun, serverName: string): string {
  return `single ${describePhaseCpu(run.cpu.single, run.single.events, serverName)}; batches ${describePhaseCpu(run.cpu.batch, run.batch.events, serverName)}`
}

export async function runPublish (ctx: BenchContext): Promise<PartResult> {
  const started = performance.now()
  const { options, log } = ctx
  const notes: string[] = []

  log('publish: one cdgossip node (own process), no peers')
  const node = await NodeProcess.create('single', dirFor(ctx, 'publish', 'single'))
  await node.configure({})
  let cdg: SystemRun
  try {
    await node.start()
    cdg = { ...await measureSystem(new CdgossipTarget(node.api()), { pid: node.pid ?? -1, threads: true }, options, log), peakRssMiB: (await node.memory())?.peakRssMiB }
  } finally {
    await node.stop()
  }

  log('publish: RabbitMQ baseline (durable topic exchange, persistent, confirms, one durable queue)')
  const rabbit = await withBroker(ctx, 'publish', async (broker) => {
    const exchange = 'cdevents'
    await AmqpConsumer.declare(broker.url, exchange, 'store')
    const publisher = await AmqpPublisher.open(broker.url, exchange)
    try {
      return { ...await measureSystem(new RabbitTarget(publisher), { pid: broker.pid, threads: false }, options, log), peakRssMiB: (await broker.memory())?.peakRssMiB, version: broker.version }
    } finally {
      await publisher.close()
      await deleteTopology(broker.url, exchange, ['store'])
    }
  })
  const base = 'skipped' in rabbit ? undefined : rabbit
  if ('skipped' in rabbit) notes.push(rabbit.skipped)

  log('publish: NATS JetStream baseline (file-storage stream, acked publishes, one durable consumer)')
  const nats = await withNats(ctx, 'publish', async (server) => {
    await declareStream(server.url, ['store'])
    const publisher = await JetStreamPublisher.open(server.url)
    try {
      return { ...await measureSystem(new NatsTarget(publisher), { pid: server.pid, threads: false }, options, log), peakRssMiB: (await server.memory())?.peakRssMiB }
    } finally {
      await publisher.close()
      await deleteStream(server.url)
    }
  })
  const js = 'skipped' in nats ? undefined : nats
  if ('skipped' in nats) notes.push(nats.skipped)

  notes.push(`Single: one event per request, ${options.inFlight} requests in flight; batch: ${options.batchSize} events per request (a JSON array), 4 in flight; ${options.measureSeconds} s each after ${WARMUP_EVENTS} warm-up events. The node has no peers here, so nothing is gossiped: a record of a class no peer subscribes to makes no gossip message (the federation figures cover real gossip). RabbitMQ and NATS JetStream do no validation or signing; JetStream publishes resolve on the stream's ack (stored in its file storage), with ${options.inFlight} (single) and ${options.batchSize} × 4 (batch) acks outstanding.`)
  notes.push(`CPU per accepted event (user + system of every thread, from /proc, over each ${options.measureSeconds} s phase): cdgossip ${describeSystemCpu(cdg, 'node')}` +
    (base === undefined ? '' : `; RabbitMQ ${describeSystemCpu(base, 'broker')}`) +
    (js === undefined ? '' : `; NATS JetStream ${describeSystemCpu(js, 'server')}`) +
    '. The node\'s CPU is split by kind of thread where Node.js names its threads (24 does, 20 does not): its event loop, LevelDB (libuv\'s pool, which runs the reads and writes, and the compaction thread), V8\'s GC and compiler helpers.')
  const figures: Figure[] = [
    {
      id: 'publish.single',
      label: 'Publish throughput, single events (1 node)',
      unit: 'events/s',
      cdgossip: cdg.single.eventsPerSec,
      baseline: base?.single.eventsPerSec,
      nats: js?.single.eventsPerSec,
      better: 'higher'
    },
    {
      id: 'publish.batch',
      label: `Publish throughput, batches of ${options.batchSize} (1 node)`,
      unit: 'events/s',
      cdgossip: cdg.batch.eventsPerSec,
      baseline: base?.batch.eventsPerSec,
      nats: js?.batch.eventsPerSec,
      better: 'higher'
    },
    {
      id: 'publish.single.p99',
      label: `Publish accept latency p99 at saturation (${options.inFlight} in flight)`,
      unit: 'ms',
      cdgossip: cdg.single.latencyMs.p99,
      baseline: base?.single.latencyMs.p99,
      nats: js?.single.latencyMs.p99,
      better: 'lower'
    }
  ]
  return {
    name: 'publish',
    figures,
    raw: {
      cdgossip: cdg,
      rabbitmq: base ?? rabbit,
      nats: js ?? nats,
      ratios: {
        single: ratio(cdg.single.eventsPerSec, base?.single.eventsPerSec),
        batch: ratio(cdg.batch.eventsPerSec, base?.batch.eventsPerSec),
        singleNats: ratio(cdg.single.eventsPerSec, js?.single.eventsPerSec),
        batchNats: ratio(cdg.batch.eventsPerSec, js?.batch.eventsPerSec)
      }
    },
    notes,
    durationMs: performance.now() - started
  }
}
