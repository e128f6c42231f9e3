import { mkdtemp, rm } from 'node:fs/promises'
import path from 'node:path'
import { NatsServer, NATS_INSTALL_HINT, findNatsServer } from './nats.js'
import { RabbitBroker, findRabbitMQ, INSTALL_HINT } from './rabbitmq.js'
import type { FloorCosts } from './efficiency.js'

/** What every benchmark part gets: where to work, how long it may take, how to log. */
export interface BenchContext {
  /** temp dir of this run (node data dirs, the broker's files); removed at the end */
  root: string
  /** bench-results/ (raw results, CPU profiles) */
  resultsDir: string
  options: BenchOptions
  log: (line: string) => void
  /** RabbitMQ binaries, or why the baseline is skipped */
  rabbit: { server: string, epmd: string } | { skipped: string }
  /** the nats-server binary, or why the JetStream baseline is skipped */
  nats: { server: string } | { skipped: string }
  /** the per-event floor, measured once per run by the first part that needs it (floor.ts) */
  floor?: Promise<FloorCosts>
}

export interface BenchOptions {
  /** skip the RabbitMQ and NATS baselines even when installed */
  noBaseline: boolean
  /** seconds each closed/open-loop measurement runs */
  measureSeconds: number
  /** events a restarted node catches up */
  catchupEvents: number
  /** catch-up rounds per system (the figure is their median) */
  catchupRounds: number
  /** records in the query store */
  queryEvents: number
  /** in-process nodes of the scale figure */
  scaleNodes: number
  /** events published at random nodes of the scale mesh */
  scaleEvents: number
  /** requests in flight for closed-loop publishing */
  inFlight: number
  /** events per batch request */
  batchSize: number
  /** fixed rate of the latency figure */
  fixedRate: number
  /**
   * Measured fixed-rate windows, back to back; the latency figures come from the window with the
   * median p99. On two shared cores one GC pause or compaction landing in a window moves its p99
   * by tens of milliseconds; several windows show that spread, and the median does not hang on
   * it. More windows also show how the p99 moves as the stores grow (BENCHMARKS.md, round 12).
   */
  fixedWindows: number
  /** a rate every system sustains: latency without queueing */
  lightRate: number
}

export const DEFAULT_OPTIONS: BenchOptions = {
  noBaseline: false,
  measureSeconds: 8,
  catchupEvents: 50_000,
  catchupRounds: 3,
  queryEvents: 1_000_000,
  scaleNodes: 30,
  scaleEvents: 200,
  inFlight: 32,
  batchSize: 100,
  fixedRate: 500,
  fixedWindows: 3,
  lightRate: 50
}

/** One line of the BENCHMARKS.md table. */
export interface Figure {
  id: string
  label: string
  unit: string
  cdgossip: number | undefined
  /** RabbitMQ */
  baseline: number | undefined
  /** NATS JetStream, when the part measures it */
  nats?: number | undefined
  /** 'higher' when more is better (throughput), 'lower' for latencies and sizes */
  better: 'higher' | 'lower'
  /** false when the baseline's number measures something else (no ratio is shown) @default true */
  comparable?: boolean
  target?: string
  /** whether cdgossip meets the target; absent when the figure has none */
  meets?: boolean
  note?: string
}

export interface PartResult {
  name: string
  figures: Figure[]
  /** everything measured, for results.json */
  raw: Record<string, unknown>
  notes: string[]
  /** extra section for BENCHMARKS.md (the profile summary) */
  markdown?: string
  durationMs: number
}

export async function createContext (resultsDir: string, options: BenchOptions, log: (line: string) => void): Promise<BenchContext> {
  const root = await mkdtemp(path.join((await import('node:os')).tmpdir(), 'cdgossip-bench-'))
  let rabbit: BenchContext['rabbit']
  let nats: BenchContext['nats']
  if (options.noBaseline) {
    rabbit = { skipped: 'baseline disabled (--no-baseline)' }
    nats = { skipped: 'baseline disabled (--no-baseline)' }
  } else {
    rabbit = await findRabbitMQ() ?? { skipped: INSTALL_HINT }
    nats = await natsBaseline()
  }
  return { root, resultsDir, options, log, rabbit, nats }
}

/** The nats-server to start, or the install instructions when there is none. */
export async function natsBaseline (env: NodeJS.ProcessEnv = process.env): Promise<BenchContext['nats']> {
  const server = await findNatsServer(env)
  return server === undefined ? { skipped: NATS_INSTALL_HINT } : { server }
}

export async function removeContext (ctx: BenchContext): Promise<void> {
  await rm(ctx.root, { recursive: true, force: true })
}

/** Run `fn` with a private broker that lives only for this part, so its peak RSS is this part's. */
export async function withBroker<T> (ctx: BenchContext, part: string, fn: (broker: RabbitBroker) => Promise<T>): Promise<T | { skipped: string }> {
  if ('skipped' in ctx.rabbit) return { skipped: ctx.rabbit.skipped }
  const broker = await RabbitBroker.start(path.join(ctx.root, `rabbitmq-${part}`), ctx.rabbit)
  try {
    return await fn(broker)
  } finally {
    await broker.stop()
  }
}

/** Run `fn` with a private nats-server (JetStream) that lives only for this part. */
export async function withNats<T> (ctx: BenchContext, part: string, fn: (server: NatsServer) => Promise<T>): Promise<T | { skipped: string }> {
  if ('skipped' in ctx.nats) return { skipped: ctx.nats.skipped }
  const server = await NatsServer.start(path.join(ctx.root, `nats-${part}`), ctx.nats.server)
  try {
    return await fn(server)
  } finally {
    await server.stop()
  }
}

/** A directory under the run's root for one node or part. */
export function dirFor (ctx: BenchContext, ...parts: string[]): string {
  return path.join(ctx.root, ...parts)
}
