import '../../src/polyfill.js'
import { mkdir, readFile, writeFile } from 'node:fs/promises'
import os from 'node:os'
import path from 'node:path'
import { fileURLToPath } from 'node:url'
import { UsageError, integerOption, scriptArgsWithPositionals } from './script-args.js'
import { DEFAULT_OPTIONS, createContext, removeContext, type BenchContext, type BenchOptions, type PartResult } from './context.js'
import { runPublish } from './publish-bench.js'
import { runFederation } from './federation-bench.js'
import { runCatchup } from './catchup-bench.js'
import { runQuery } from './query-bench.js'
import { runScale } from './scale-bench.js'
import { runProfile } from './profile-bench.js'
import { cleanupAll, killChildrenSync } from './resources.js'
import { brokerInfo } from './rabbitmq.js'
import { natsInfo } from './nats.js'
import { withTarget } from './targets.js'
import { keepHandWritten, machineInfo, renderMarkdown, sourceInfo, type BenchRun } from './report.js'

/**
 * `npm run bench` (= build, then `node dist/scripts/bench/index.js`): the whole benchmark in one
 * run, or single parts: `node dist/scripts/bench/index.js publish federation`. Writes
 * bench-results/results.json (raw) and, for a full run, BENCHMARKS.md.
 */

const REPO_ROOT = fileURLToPath(new URL('../../../', import.meta.url))
const RESULTS_DIR = path.join(REPO_ROOT, 'bench-results')
const MARKDOWN = path.join(REPO_ROOT, 'BENCHMARKS.md')

const PARTS: Record<string, (ctx: BenchContext) => Promise<PartResult>> = {
  publish: runPublish,
  federation: runFederation,
  catchup: runCatchup,
  query: runQuery,
  scale: runScale,
  profile: runProfile
}
const ALL = Object.keys(PARTS)
/** A run that should take under 10 minutes and takes twice that is stuck: stop everything. */
const DEFAULT_MAX_MINUTES = 20

const USAGE = `usage: node dist/scripts/bench/index.js [part...] [options]
parts: ${ALL.join(', ')} (default: all, in that order)
options:
  --no-baseline          skip RabbitMQ and NATS even when installed
  --seconds S            seconds per throughput/latency measurement (default ${DEFAULT_OPTIONS.measureSeconds})
  --fixed-windows N      measured windows at ${DEFAULT_OPTIONS.fixedRate} events/s, the p99 figure is their median (default ${DEFAULT_OPTIONS.fixedWindows})
  --in-flight N          publish requests in flight for single publishes and the saturation phase, every system alike (default ${DEFAULT_OPTIONS.inFlight})
  --catchup-events N     events the restarted node misses (default ${DEFAULT_OPTIONS.catchupEvents})
  --catchup-rounds N     catch-up rounds per system, the figure is their median (default ${DEFAULT_OPTIONS.catchupRounds})
  --query-events N       records in the query store (default ${DEFAULT_OPTIONS.queryEvents})
  --scale-nodes N        nodes in the scale mesh (default ${DEFAULT_OPTIONS.scaleNodes})
  --markdown             write BENCHMARKS.md even for a partial run
  --max-minutes M        abort (stopping everything) after M minutes (default ${DEFAULT_MAX_MINUTES})
  --quick                short smoke run (2 s measurements, small stores); never writes BENCHMARKS.md
environment:
  CDGOSSIP_BENCH_BIN=path/to/bin/cdgossip.js   run the node processes from another build (A/B runs)
  CDGOSSIP_BENCH_NODE_FLAGS="--flag ..."        Node.js/V8 flags for the node processes (e.g. --max-semi-space-size=4)
  CDGOSSIP_BENCH_NODE_PRELOAD=path/to/lib.so    preloaded into the node processes only (LD_PRELOAD), e.g. another allocator
  CDGOSSIP_MALLOC=system                        the nodes keep glibc's malloc (they preload jemalloc when installed)
  CDGOSSIP_BENCH_NODE_OUTPUT=dir                 keep each node process's whole output there, as <name>.<pid>.log
  RABBITMQ_SERVER=path/to/rabbitmq-server       the broker start script to use
  NATS_SERVER=path/to/nats-server               the nats-server binary to use`

/** The bench's options; its positional arguments are the parts to run. */
const BENCH_OPTIONS = {
  'no-baseline': { type: 'boolean' },
  seconds: { type: 'string' },
  'fixed-windows': { type: 'string' },
  'in-flight': { type: 'string' },
  'catchup-events': { type: 'string' },
  'catchup-rounds': { type: 'string' },
  'query-events': { type: 'string' },
  'scale-nodes': { type: 'string' },
  markdown: { type: 'boolean' },
  quick: { type: 'boolean' },
  'max-minutes': { type: 'string' }
} as const

async function main (): Promise<number> {
  const { values, positionals } = scriptArgsWithPositionals(USAGE, BENCH_OPTIONS)
  const unknown = positionals.filter(p => !(p in PARTS) && p !== 'all')
  if (unknown.length > 0) {
    process.stderr.write(`unknown part(s): ${unknown.join(', ')}\n${USAGE}\n`)
    return 2
  }
  const parts = positionals.length === 0 || positionals.includes('all') ? ALL : ALL.filter(p => positionals.includes(p))
  const quick = values.quick === true
  const options: BenchOptions = {
    ...DEFAULT_OPTIONS,
    ...(quick ? { measureSeconds: 2, catchupEvents: 5000, catchupRounds: 1, queryEvents: 20_000, scaleEvents: 60 } : {}),
    noBaseline: values['no-baseline'] === true
  }
  options.measureSeconds = integerOption(values.seconds, '--seconds', options.measureSeconds)
  options.fixedWindows = integerOption(values['fixed-windows'], '--fixed-windows', options.fixedWindows)
  options.inFlight = integerOption(values['in-flight'], '--in-flight', options.inFlight)
  options.catchupEvents = integerOption(values['catchup-events'], '--catchup-events', options.catchupEvents)
  options.catchupRounds = integerOption(values['catchup-rounds'], '--catchup-rounds', options.catchupRounds)
  options.queryEvents = integerOption(values['query-events'], '--query-events', options.queryEvents)
  options.scaleNodes = integerOption(values['scale-nodes'], '--scale-nodes', options.scaleNodes)
  const maxMinutes = integerOption(values['max-minutes'], '--max-minutes', DEFAULT_MAX_MINUTES)

  const t0 = performance.now()
  const machine = machineInfo()
  const source = sourceInfo(REPO_ROOT)
  const log = (line: string): void => { process.stdout.write(`[${((performance.now() - t0) / 1000).toFixed(1).padStart(6)} s] ${line}\n`) }
  await mkdir(RESULTS_DIR, { recursive: true })
  const ctx = await createContext(RESULTS_DIR, options, log)
  log(`machine: ${machine.cpu}, ${machine.cores} cores, ${machine.ramGiB} GiB, Node ${machine.node}, load average ${machine.loadAverage?.start ?? '?'}`)
  if ((machine.loadAverage?.start ?? 0) > 0.5) log('warning: the machine is busy; figures will be lower and noisier than on an idle machine')
  if ('skipped' in ctx.rabbit) log(`baseline: ${ctx.rabbit.skipped}`)
  else log(`baseline: RabbitMQ (${ctx.rabbit.server})`)
  if ('skipped' in ctx.nats) log(`baseline: ${ctx.nats.skipped}`)
  else log(`baseline: NATS JetStream (${ctx.nats.server})`)

  const onSignal = (signal: NodeJS.Signals): void => {
    log(`${signal}: stopping everything`)
    void cleanupAll(log).then(async () => { await removeContext(ctx) }).finally(() => { process.exit(130) })
  }
  const watchdog = setTimeout(() => {
    log(`the run exceeded ${maxMinutes} minutes: stopping everything`)
    void cleanupAll(log).then(async () => { await removeContext(ctx) }).finally(() => { process.exit(1) })
  }, maxMinutes * 60_000)
  watchdog.unref()
  process.on('SIGINT', onSignal)
  process.on('SIGTERM', onSignal)
  process.on('exit', killChildrenSync)

  const results: PartResult[] = []
  const failures: Array<{ part: string, error: string }> = []
  try {
    for (const part of parts) {
      const run = PARTS[part] as (ctx: BenchContext) => Promise<PartResult>
      log(`== ${part} ==`)
      try {
        const result = await run(ctx)
        results.push({ ...result, figures: result.figures.map(withTarget) })
        log(`== ${part} done in ${(result.durationMs / 1000).toFixed(1)} s ==`)
      } catch (err) {
        const message = (err as Error).stack ?? String(err)
        failures.push({ part, error: message })
        log(`!! ${part} failed: ${message}`)
      } finally {
        // whatever the part left running (a failure mid-way) stops before the next part starts
        await cleanupAll(log)
      }
    }
  } finally {
    await cleanupAll(log)
    await removeContext(ctx)
  }

  const command = `node dist/scripts/bench/index.js ${process.argv.slice(2).join(' ')}`.trim()
  const run: BenchRun = {
    date: new Date().toISOString(),
    ...(source === undefined ? {} : { source }),
    command: parts.length === ALL.length && !quick ? 'npm run bench' : command,
    machine: { ...machine, loadAverage: { start: machine.loadAverage?.start ?? 0, end: Math.round((os.loadavg()[0] ?? 0) * 100) / 100 } },
    options,
    baseline: 'skipped' in ctx.rabbit ? { skipped: ctx.rabbit.skipped } : { system: 'RabbitMQ', server: ctx.rabbit.server, ...brokerInfo },
    nats: 'skipped' in ctx.nats ? { skipped: ctx.nats.skipped } : { system: 'NATS JetStream', server: ctx.nats.server, ...natsInfo },
    // a failed floor measurement already failed the parts that needed it
    ...(ctx.floor === undefined ? {} : { floor: await ctx.floor.catch(() => undefined) }),
    durationSeconds: Math.round((performance.now() - t0) / 100) / 10,
    parts: results,
    failures
  }
  await writeFile(path.join(RESULTS_DIR, 'results.json'), JSON.stringify(run, null, 2) + '\n')
  log(`raw results: ${path.relative(process.cwd(), path.join(RESULTS_DIR, 'results.json'))}`)
  const markdown = renderMarkdown(run)
  if ((parts.length === ALL.length && !quick) || values.markdown === true) {
    const previous = await readFile(MARKDOWN, 'utf8').catch(() => undefined)
    await writeFile(MARKDOWN, keepHandWritten(markdown, previous))
    log(`wrote ${path.relative(process.cwd(), MARKDOWN)}`)
  } else {
    process.stdout.write('\n' + markdown)
  }
  clearTimeout(watchdog)
  log(`total ${run.durationSeconds} s`)
  return failures.length === 0 ? 0 : 1
}

main().then(code => { process.exitCode = code }, async (err: unknown) => {
  if (err instanceof UsageError) {
    process.stderr.write(`error: ${err.message}\n${USAGE}\n`)
    process.exitCode = 2
    return
  }
  process.stderr.write(`bench failed: ${(err as Error).stack ?? String(err)}\n`)
  await cleanupAll(line => { process.stderr.write(line + '\n') })
  process.exitCode = 1
})
