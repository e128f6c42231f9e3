import type { BenchContext, Figure, PartResult } from './context.js'
import { dirFor, withBroker, withNats } from './context.js'
import { CATCHUP_FLOOR, cpuPerEventUs, describeRecipe, efficiencyOf, floorPerEventUs } from './efficiency.js'
import { floorOf } from './floor.js'
import { declareStream, deleteStream, JetStreamConsumer, JetStreamPublisher } from './nats.js'
import { CpuMeter, describeThreadSplit, threadCpuDelta, threadCpuOf, type CpuUsage, type ThreadCpu } from './proc-cpu.js'
import { measureBatch, type ThroughputResult } from './publish-bench.js'
import { NodeProcess, type NodeMemory } from './node-process.js'
import { Payloads, runPrefix } from './payloads.js'
import { ACK_EVERY, CONSUMER_PREFETCH, AmqpConsumer, AmqpPublisher, deleteTopology } from './rabbitmq.js'
import { medianBy, rate, ratio, round, waitUntil } from './stats.js'
import { CdgossipTarget, NatsTarget, RabbitTarget, type PublishTarget } from './publish-targets.js'

/**
 * Figures 3 and 5: catch-up. B (trusts A, subscribes to everything) has followed A's classes
 * from their first record, stops, misses N events, restarts and syncs them from A over
 * /cdgossip/sync/1.0.0. Rate = N / (all N held − node ready). Baseline: a durable RabbitMQ queue
 * whose consumer was away while N persistent messages were published, then drains it.
 */

/** Filling A: events per batch request (≈ 250 KB, well under the 1 MiB body limit) and in flight. */
export const FILL_BATCH = 250
export const FILL_IN_FLIGHT = 4
/** Filling must not take longer than this. */
export const FILL_TIMEOUT_MS = 240_000
/** Catch-up longer than this is reported as incomplete. */
export const CATCHUP_TIMEOUT_MS = 180_000
const POLL_MS = 100

export interface CatchupSystem {
  missed: number
  fill: ThroughputResult
  /** process start → REST answering (cdgossip only) */
  startMs?: number
  /** from ready (cdgossip: REST up; RabbitMQ: consumer attached) to all N held */
  catchupMs: number
  /** from ready to the first missed record held */
  firstMs: number
  eventsPerSec: number
  /** including the node's own start-up */
  eventsPerSecFromSpawn?: number
  complete: boolean
  held: number
  memory: Record<string, NodeMemory | undefined>
  /** CPU of every process from ready to all held */
  cpu?: CpuUsage
  /** the same for A and B, by kind of thread (cdgossip only) */
  threads?: { A?: ThreadCpu, B?: ThreadCpu }
  sync?: unknown
}

/**
 * A and B started, B subscribed to everything (over the API, so its start time is A's first
 * event's past), B holding sequence 1 of every class, then B stopped: sync later backfills
 * everything A publishes after this. Shared by the catch-up figure and its CPU profile.
 */
export async function prepareCatchupPair (a: NodeProcess, b: NodeProcess, options: { seed: number, label: string }): Promise<{ target: CdgossipTarget, payloads: Payloads, held0: number }> {
  await a.configure({})
  await a.start()
  await b.configure({ bootstrap: [a.address], trust: [{ peerId: a.peerId, name: 'community-a' }] })
  await b.start()
  await b.subscribe(['*'])
  await waitUntil(async () => (await a.api().getJson<unknown[]>('/v1/peers')).length >= 1, { timeoutMs: 20_000, intervalMs: 100, message: 'A connected to B' })
  const target = new CdgossipTarget(a.api())
  const payloads = new Payloads({ seed: options.seed, idPrefix: runPrefix(options.label) })
  let published = 0
  for (let round = 1; ; round++) {
    const warm = payloads.warmup()
    for (const p of warm) await target.publish(p)
    published += warm.length
    try {
      await waitUntil(async () => await b.storedCount() >= published, { timeoutMs: 3000, intervalMs: 100, message: 'warm-up at B' })
      break
    } catch {
      if (round >= 10) throw new Error('B never received the warm-up events')
    }
  }
  const held0 = await b.storedCount()
  await b.stop()
  return { target, payloads, held0 }
}

/** The highest peak RSS of `name` over the rounds (each round restarts the process). */
function peakOver (rounds: CatchupSystem[], name: string): number | undefined {
  const peaks = rounds.map(r => r.memory[name]?.peakRssMiB).filter((v): v is number => v !== undefined)
  return peaks.length === 0 ? undefined : Math.max(...peaks)
}

/**
 * One cdgossip round on a prepared pair: A stores `n` events while B is down, B restarts and
 * syncs them. `held0` is what B held before.
 */
async function cdgossipRound (a: NodeProcess, b: NodeProcess, target: CdgossipTarget, payloads: Payloads, n: number, held0: number, log: BenchContext['log']): Promise<CatchupSystem> {
  const bWarmMemory = b.lastMemory
  const fill = await measureBatch(target, payloads, { inFlight: FILL_IN_FLIGHT, batchSize: FILL_BATCH, maxMs: FILL_TIMEOUT_MS, maxEvents: n })
  if (fill.events !== n) throw new Error(`A accepted ${fill.events} of ${n} events: ${fill.firstError ?? ''}`)
  log(`  A stored ${n} events while B was down (${fill.eventsPerSec} events/s in batches of ${FILL_BATCH})`)

  const spawnAt = performance.now()
  await b.start()
  const meter = new CpuMeter({ A: a.pid ?? -1, B: b.pid ?? -1, bench: process.pid })
  const threadsBefore = await Promise.all([threadCpuOf(a.pid ?? -1), threadCpuOf(b.pid ?? -1)])
  await meter.start()
  const readyAt = performance.now()
  let firstAt: number | undefined
  let held = held0
  let complete = true
  try {
    await waitUntil(async () => {
      held = await b.storedCount()
      if (firstAt === undefined && held > held0) firstAt = performance.now()
      return held >= held0 + n
    }, { timeoutMs: CATCHUP_TIMEOUT_MS, intervalMs: POLL_MS, message: 'B holding every missed event' })
  } catch {
    complete = false
  }
  const doneAt = performance.now()
  const cpu = await meter.stop()
  const threadsAfter = await Promise.all([threadCpuOf(a.pid ?? -1), threadCpuOf(b.pid ?? -1)])
  const threadsOf = (i: 0 | 1): ThreadCpu | undefined => {
    const before = threadsBefore[i]
    const after = threadsAfter[i]
    return before === undefined || after === undefined ? undefined : threadCpuDelta(before, after)
  }
  const caught = held - held0
  const info = await b.api().getJson<{ sync?: unknown }>('/v1/node')
  const result: CatchupSystem = {
    missed: n,
    fill,
    startMs: round(readyAt - spawnAt, 0),
    catchupMs: round(doneAt - readyAt, 0),
    firstMs: round((firstAt ?? doneAt) - readyAt, 0),
    eventsPerSec: rate(caught, doneAt - readyAt),
    eventsPerSecFromSpawn: rate(caught, doneAt - spawnAt),
    complete,
    held: caught,
    memory: { A: await a.memory(), B: await b.memory(), 'B before restart': bWarmMemory },
    cpu,
    threads: { A: threadsOf(0), B: threadsOf(1) },
    sync: info.sync
  }
  log(`  cdgossip: ${caught}/${n} in ${result.catchupMs} ms after ready → ${result.eventsPerSec} events/s (${result.eventsPerSecFromSpawn} incl. ${result.startMs} ms start-up); B peak RSS ${result.memory.B?.peakRssMiB ?? '?'} MiB, CPU ${roundCpuUs(result) ?? '?'} µs per event (${describeNodeThreads(result)})`)
  return result
}

/** A consumer of a baseline's durable queue or stream consumer. */
interface DrainingConsumer {
  readonly received: number
  consume(onMessage: (key: string, at: number) => void): Promise<void>
  close(): Promise<void>
}

/**
 * The baseline's rounds: N messages stored with no consumer attached, then one consumer drains
 * them; rate = N / drain time, CPU of the server and the bench client over the drain.
 */
async function baselineRounds (ctx: BenchContext, target: PublishTarget, openConsumer: () => Promise<DrainingConsumer>, server: { pid: number, memory: () => Promise<NodeMemory | undefined> }): Promise<CatchupSystem[]> {
  const n = ctx.options.catchupEvents
  const payloads = new Payloads({ seed: 31, idPrefix: runPrefix('catchup') })
  const results: CatchupSystem[] = []
  for (let r = 0; r < ctx.options.catchupRounds; r++) {
    const fill = await measureBatch(target, payloads, { inFlight: FILL_IN_FLIGHT, batchSize: FILL_BATCH, maxMs: FILL_TIMEOUT_MS, maxEvents: n })
    if (fill.events !== n) throw new Error(`${target.system} accepted ${fill.events} of ${n}: ${fill.firstError ?? ''}`)
    const consumer = await openConsumer()
    try {
      let firstAt: number | undefined
      const meter = new CpuMeter({ server: server.pid, bench: process.pid })
      await meter.start()
      const readyAt = performance.now()
      await consumer.consume((_key, at) => { firstAt ??= at })
      let complete = true
      try {
        await waitUntil(() => consumer.received >= n, { timeoutMs: CATCHUP_TIMEOUT_MS, intervalMs: 20, message: 'the consumer draining its backlog' })
      } catch {
        complete = false
      }
      const doneAt = performance.now()
      const cpu = await meter.stop()
      const result: CatchupSystem = {
        missed: n,
        fill,
        catchupMs: round(doneAt - readyAt, 0),
        firstMs: round((firstAt ?? doneAt) - readyAt, 0),
        eventsPerSec: rate(consumer.received, doneAt - readyAt),
        complete,
        held: consumer.received,
        memory: { server: await server.memory() },
        cpu
      }
      ctx.log(`  ${target.system}: ${consumer.received}/${n} in ${result.catchupMs} ms → ${result.eventsPerSec} events/s, CPU ${roundCpuUs(result) ?? '?'} µs per event`)
      results.push(result)
    } finally {
      await consumer.close()
    }
  }
  return results
}

/** `A: event loop 20, …; B: event loop 90, …` (µs per caught-up event), or '?' when unread. */
function describeNodeThreads (r: CatchupSystem): string {
  const parts = (['A', 'B'] as const).flatMap(name => {
    const threads = r.threads?.[name]
    return threads === undefined ? [] : [`${name}: ${describeThreadSplit(threads, r.held)}`]
  })
  return parts.length === 0 ? '?' : parts.join('; ')
}

/** CPU per event the round caught up. */
function roundCpuUs (r: CatchupSystem): number | undefined {
  return cpuPerEventUs(r.cpu?.totalMs, r.held)
}

export async function runCatchup (ctx: BenchContext): Promise<PartResult> {
  const started = performance.now()
  const { options, log } = ctx
  const n = options.catchupEvents
  const roundsWanted = options.catchupRounds
  const notes: string[] = []

  const floorUs = floorPerEventUs(await floorOf(ctx), CATCHUP_FLOOR)
  log(`catch-up: B misses ${n.toLocaleString('en-US')} events of A and restarts (${roundsWanted} round${roundsWanted === 1 ? '' : 's'})`)
  const rounds: CatchupSystem[] = []
  for (let r = 1; r <= roundsWanted; r++) {
    // each round the same experiment: a fresh pair, B missing N events of A
    const suffix = roundsWanted === 1 ? '' : `-${r}`
    const a = await NodeProcess.create('A', dirFor(ctx, 'catchup', `a${suffix}`))
    const b = await NodeProcess.create('B', dirFor(ctx, 'catchup', `b${suffix}`))
    try {
      const { target, payloads, held0 } = await prepareCatchupPair(a, b, { seed: 31, label: `catchup${suffix}` })
      rounds.push(await cdgossipRound(a, b, target, payloads, n, held0, log))
    } finally {
      await b.stop()
      await a.stop()
    }
  }
  const cdg = medianBy(rounds, r => r.eventsPerSec)

  log('catch-up: RabbitMQ baseline (consumer away while N messages queue up)')
  const rabbit = await withBroker(ctx, 'catchup', async (broker) => {
    const exchange = 'cdevents'
    const queue = 'community-b'
    await AmqpConsumer.declare(broker.url, exchange, queue)
    const publisher = await AmqpPublisher.open(broker.url, exchange)
    try {
      return await baselineRounds(ctx, new RabbitTarget(publisher), async () => await AmqpConsumer.open(broker.url, queue, CONSUMER_PREFETCH), { pid: broker.pid, memory: async () => await broker.memory() })
    } finally {
      await publisher.close()
      await deleteTopology(broker.url, exchange, [queue])
    }
  })
  log('catch-up: NATS JetStream baseline (durable consumer away while N messages are stored)')
  const nats = await withNats(ctx, 'catchup', async (server) => {
    const durable = 'community-b'
    await declareStream(server.url, [durable])
    const publisher = await JetStreamPublisher.open(server.url)
    try {
      return await baselineRounds(ctx, new NatsTarget(publisher), async () => await JetStreamConsumer.open(server.url, durable, CONSUMER_PREFETCH), { pid: server.pid, memory: async () => await server.memory() })
    } finally {
      await publisher.close()
      await deleteStream(server.url)
    }
  })
  const jsRounds = 'skipped' in nats ? undefined : nats
  const js = jsRounds === undefined ? undefined : medianBy(jsRounds, r => r.eventsPerSec)
  if ('skipped' in nats) notes.push(nats.skipped)
  const baseRounds = 'skipped' in rabbit ? undefined : rabbit
  const base = baseRounds === undefined ? undefined : medianBy(baseRounds, r => r.eventsPerSec)
  if ('skipped' in rabbit) notes.push(rabbit.skipped)
  const ratesOf = (rs: CatchupSystem[]): string => rs.map(r => r.eventsPerSec.toLocaleString('en-US')).join(', ')
  const complete = rounds.every(r => r.complete)

  const incomplete = rounds.filter(r => !r.complete).map(r => `${r.held} of ${n}`)
  notes.push(
    `N = ${n.toLocaleString('en-US')} events (the issue asks for 50,000; \`--catchup-events\` changes it), ${rounds.length} round${rounds.length === 1 ? '' : 's'} per system (\`--catchup-rounds\`); the figure is the median round, the rounds are listed here because single runs on a 2-core machine shared by both processes differ by several per cent. Each round starts two fresh node processes: B has a \`now\` subscription to \`*\` added over the REST API (persisted with its creation time) and holds sequence 1 of every class when it stops; A then stores the N events in batches of ${FILL_BATCH} (median round: ${cdg.fill.eventsPerSec} events/s) while B is down, and B restarts.`,
    `Rate = N / (all N held at B − B's REST API answering after restart); polled every ${POLL_MS} ms via GET /v1/node. Rounds: ${ratesOf(rounds)} events/s. Median round including B's own start-up (${cdg.startMs ?? '?'} ms): ${cdg.eventsPerSecFromSpawn ?? '?'} events/s.${complete ? '' : ` INCOMPLETE after ${CATCHUP_TIMEOUT_MS / 1000} s: B held ${incomplete.join('; ')}.`}`,
    `NATS JetStream: in each round N messages acked into a file-storage stream while its durable pull consumer community-b is detached, then the consumer (up to ${CONSUMER_PREFETCH} pulled ahead, every message acked) drains them; rate = N / drain time.${jsRounds === undefined ? '' : ` Rounds: ${ratesOf(jsRounds)} events/s.`}`,
    `CPU per event: user + system time from /proc/<pid>/stat over the catch-up (cdgossip: A, B and the bench client from B's REST API answering until all N are held; baselines: the server and the bench client over the drain), divided by the events caught up. Median round: cdgossip ${cdg.cpu === undefined ? '?' : `${Math.round(cdg.cpu.totalMs)} ms`}${base?.cpu === undefined ? '' : `, RabbitMQ ${Math.round(base.cpu.totalMs)} ms`}${js?.cpu === undefined ? '' : `, NATS JetStream ${Math.round(js.cpu.totalMs)} ms`}. Floor of one caught-up event: ${describeRecipe(CATCHUP_FLOOR)} = ${floorUs} µs (see "The per-event floor"). The median round's nodes by kind of thread, µs per caught-up event: ${describeNodeThreads(cdg)}.`,
    `RabbitMQ: in each round N persistent messages confirmed into durable queue community-b with no consumer attached, then one consumer (prefetch ${CONSUMER_PREFETCH}, acks every ${ACK_EVERY}) drains it; rate = N / drain time.${baseRounds === undefined ? '' : ` Rounds: ${ratesOf(baseRounds)} events/s.`}`,
    `Peak RSS during catch-up (highest over the rounds): A ${peakOver(rounds, 'A') ?? '?'} MiB, B ${peakOver(rounds, 'B') ?? '?'} MiB${baseRounds === undefined ? '' : `; RabbitMQ beam.smp ${peakOver(baseRounds, 'server') ?? '?'} MiB (holding the backlog)`}${jsRounds === undefined ? '' : `; nats-server ${peakOver(jsRounds, 'server') ?? '?'} MiB`}.`
  )
  const efficiency = cdg.cpu === undefined ? undefined : efficiencyOf(floorUs, cdg.cpu.totalMs, cdg.held)
  const figures: Figure[] = [
    {
      id: 'catchup.rate',
      label: `Catch-up after missing ${n.toLocaleString('en-US')} events (median of ${rounds.length} round${rounds.length === 1 ? '' : 's'})`,
      unit: 'events/s',
      cdgossip: cdg.eventsPerSec,
      baseline: base?.eventsPerSec,
      nats: js?.eventsPerSec,
      better: 'higher'
    },
    {
      id: 'memory.catchup',
      label: 'Peak RSS during catch-up, restarted node vs broker / server',
      unit: 'MiB',
      cdgossip: peakOver(rounds, 'B'),
      baseline: baseRounds === undefined ? undefined : peakOver(baseRounds, 'server'),
      nats: jsRounds === undefined ? undefined : peakOver(jsRounds, 'server'),
      better: 'lower'
    },
    {
      id: 'catchup.cpuPerEvent',
      label: 'CPU per caught-up event (all processes, median round)',
      unit: 'µs',
      cdgossip: roundCpuUs(cdg),
      baseline: base === undefined ? undefined : roundCpuUs(base),
      nats: js === undefined ? undefined : roundCpuUs(js),
      better: 'lower'
    },
    {
      id: 'catchup.efficiency',
      label: `Catch-up efficiency: floor (${floorUs} µs) ÷ CPU per caught-up event`,
      unit: '%',
      cdgossip: efficiency?.percent,
      baseline: undefined,
      better: 'higher',
      note: 'n/a'
    }
  ]
  return {
    name: 'catchup',
    figures,
    raw: {
      cdgossip: { median: cdg, rounds },
      rabbitmq: baseRounds === undefined ? rabbit : { median: base, rounds: baseRounds },
      nats: jsRounds === undefined ? nats : { median: js, rounds: jsRounds },
      efficiency,
      floorUs,
      ratios: { rate: ratio(cdg.eventsPerSec, base?.eventsPerSec), rateNats: ratio(cdg.eventsPerSec, js?.eventsPerSec) }
    },
    notes,
    durationMs: performance.now() - started
  }
}
