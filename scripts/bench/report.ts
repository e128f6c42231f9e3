import { execFileSync } from 'node:child_process'
import os from 'node:os'
import type { BenchOptions, Figure, PartResult } from './context.js'
import { ratio } from './stats.js'

export interface MachineInfo {
  cpu: string
  cores: number
  ramGiB: number
  os: string
  node: string
  /** 1-minute load average when the run started and ended: other work on the box skews figures */
  loadAverage?: { start: number, end?: number }
}

export interface BenchRun {
  date: string
  /** the checkout measured: commit, and whether src/ had uncommitted changes */
  source?: { commit: string, dirty: boolean }
  command: string
  machine: MachineInfo
  options: BenchOptions
  baseline: { system: string, server: string, version?: string, platform?: string } | { skipped: string }
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
    loadAverage: { start: Math.round((os.loadavg()[0] ?? 0) * 100) / 100 }
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

function figureRow (f: Figure): string {
  // a negative or zero baseline (RabbitMQ delivering before its own confirm) has no meaningful ratio
  const r = f.comparable !== false && (f.baseline ?? 0) > 0 && (f.cdgossip ?? 0) >= 0 ? ratio(f.cdgossip, f.baseline) : undefined
  return `| ${f.label} | ${fmt(f.cdgossip, f.unit)} | ${f.baseline === undefined ? (f.note ?? '–') : fmt(f.baseline, f.unit)} | ${r === undefined ? '–' : `${r}×`} | ${verdict(f)} |`
}

/** BENCHMARKS.md: the figures table, what was measured how, the profile summary, how to reproduce. */
export function renderMarkdown (run: BenchRun): string {
  const baseline = 'skipped' in run.baseline
    ? `skipped: ${run.baseline.skipped}`
    : `${run.baseline.system} ${run.baseline.version ?? ''}${run.baseline.platform === undefined ? '' : ` on ${run.baseline.platform}`} (\`${run.baseline.server}\`, a private broker started by the bench)`
  const lines: string[] = [
    '# cdgossip benchmarks',
    '',
    `Measured by \`${run.command}\` on ${run.date.slice(0, 10)} (${run.date})${run.source === undefined ? '' : ` at commit ${run.source.commit}${run.source.dirty ? ' with uncommitted changes in src/' : ''}`}; the whole run took ${run.durationSeconds} s.`,
    '',
    `- Machine: ${run.machine.cpu}, ${run.machine.cores} cores, ${run.machine.ramGiB} GiB RAM, ${run.machine.os}`,
    `- Node.js ${run.machine.node}`,
    `- Baseline: ${baseline}`,
    `- Load average (1 min) at start ${run.machine.loadAverage?.start ?? '?'}, at end ${run.machine.loadAverage?.end ?? '?'}: other work on the machine skews every figure.`,
    '- Everything on 127.0.0.1; the bench client shares the cores with the systems it measures.',
    '',
    '## Figures',
    '',
    'Ratio = cdgossip / baseline (above 1 is better for throughput, below 1 is better for latency and memory). "202→C" starts at the publisher\'s accept: HTTP 202 for cdgossip, the publisher confirm for RabbitMQ, whose consumers often hold a message before its confirm arrives (hence negative values; no ratio is shown for 202→C rows); "send→C" starts when the publish leaves the client and compares like with like.',
    '',
    '| Figure | cdgossip | baseline | ratio | target |',
    '|---|---:|---:|---:|---|'
  ]
  for (const part of run.parts) for (const f of part.figures) lines.push(figureRow(f))
  if (run.failures.length > 0) {
    lines.push('', '**Failed parts** (no figures):', '')
    for (const f of run.failures) lines.push(`- ${f.part}: \`${f.error.split('\n')[0] ?? ''}\``)
  }
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
    '# the baseline (optional; skipped with a notice when absent)',
    'sudo apt-get update && sudo apt-get install -y rabbitmq-server',
    'npm run bench                                   # everything, writes BENCHMARKS.md and bench-results/results.json',
    'npm run build && node dist/scripts/bench/index.js publish federation   # single parts',
    'node dist/scripts/bench/index.js --help          # sizes, durations, --no-baseline, --quick',
    '```',
    '',
    'The bench starts a private RabbitMQ (its own data dir, node name, ports and epmd under a temp dir) and',
    'stops it, and every cdgossip node, at the end, also when a part fails. Raw numbers, CPU profiles and',
    'their summaries are in `bench-results/` (git-ignored).',
    ''
  )
  return lines.join('\n')
}
