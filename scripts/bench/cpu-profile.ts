import { readFile } from 'node:fs/promises'
import { SourceMap } from 'node:module'
import path from 'node:path'
import { fileURLToPath } from 'node:url'
import { round } from './stats.js'

/**
 * Reads a V8 .cpuprofile (written by `node --cpu-prof`) and aggregates self time per function
 * and per area (a cdgossip folder, an npm package, a node: module, GC). cdgossip functions are
 * mapped back to their TypeScript source through dist's source maps.
 */

export interface CallFrame {
  functionName: string
  url: string
  lineNumber: number
  columnNumber: number
}

interface ProfileNode {
  id: number
  callFrame: CallFrame
  hitCount?: number
  children?: number[]
}

interface CpuProfile {
  nodes: ProfileNode[]
  startTime: number
  endTime: number
  samples: number[]
  timeDeltas: number[]
}

export interface SelfTimeEntry {
  /** function name (or `(anonymous)`) */
  fn: string
  /** `src/store/event-store.ts:249`, `node_modules/level/...:12` or `node:internal/...` */
  location: string
  area: string
  selfMs: number
  /** share of the profile's busy (non-idle) time */
  percent: number
}

export interface ProfileSummary {
  file: string
  /** wall time covered by the profile */
  totalMs: number
  /** time not idle */
  busyMs: number
  top: SelfTimeEntry[]
  areas: Array<{ area: string, selfMs: number, percent: number }>
}

const SPECIAL = new Set(['(idle)', '(program)', '(garbage collector)', '(root)'])

function areaOf (frame: CallFrame, repoRoot: string): string {
  if (SPECIAL.has(frame.functionName) && frame.url === '') return frame.functionName
  const url = frame.url
  if (url === '') return '(native/V8)'
  if (url.startsWith('node:')) return `node:${url.slice(5).split('/')[0] === 'internal' ? url.slice(14).split('/')[0] ?? 'internal' : url.slice(5)}`
  const file = url.startsWith('file://') ? fileURLToPath(url) : url
  const nm = file.lastIndexOf('/node_modules/')
  if (nm >= 0) {
    const rest = file.slice(nm + '/node_modules/'.length).split('/')
    return rest[0]?.startsWith('@') === true ? `${rest[0]}/${rest[1] ?? ''}` : rest[0] ?? 'node_modules'
  }
  const rel = path.relative(repoRoot, file)
  const m = /^dist\/(src|scripts)\/(.*)$/.exec(rel)
  if (m !== null) {
    const parts = (m[2] ?? '').split('/')
    return parts.length > 1 ? `cdgossip:${parts[0] ?? ''}` : `cdgossip:${(parts[0] ?? '').replace(/\.js$/, '')}`
  }
  return rel.startsWith('..') ? file : rel
}

const maps = new Map<string, SourceMap | undefined>()

async function sourceMapFor (file: string): Promise<SourceMap | undefined> {
  if (maps.has(file)) return maps.get(file)
  let map: SourceMap | undefined
  try {
    map = new SourceMap(JSON.parse(await readFile(`${file}.map`, 'utf8')))
  } catch {
    map = undefined
  }
  maps.set(file, map)
  return map
}

/** Where a frame's code is: TypeScript source through dist's source maps, else the file (or URL) and line. */
export async function locationOf (frame: CallFrame, repoRoot: string): Promise<string> {
  const url = frame.url
  if (url === '') return ''
  // ES modules report file:// URLs, CommonJS modules plain paths
  if (!url.startsWith('file://') && !path.isAbsolute(url)) return `${url}:${frame.lineNumber + 1}`
  const file = url.startsWith('file://') ? fileURLToPath(url) : url
  const rel = path.relative(repoRoot, file)
  if (rel.startsWith('dist/')) {
    const map = await sourceMapFor(file)
    const entry = map?.findEntry(frame.lineNumber, frame.columnNumber) as { originalSource?: string, originalLine?: number } | undefined
    if (entry?.originalSource !== undefined && entry.originalLine !== undefined) {
      const source = entry.originalSource.startsWith('file://') ? fileURLToPath(entry.originalSource) : path.resolve(path.dirname(file), entry.originalSource)
      return `${path.relative(repoRoot, source)}:${entry.originalLine + 1}`
    }
  }
  const nm = rel.lastIndexOf('node_modules/')
  return `${nm >= 0 ? rel.slice(nm) : rel}:${frame.lineNumber + 1}`
}

export async function summarizeProfile (file: string, repoRoot: string, topN = 20): Promise<ProfileSummary> {
  const profile = JSON.parse(await readFile(file, 'utf8')) as CpuProfile
  const byId = new Map(profile.nodes.map(n => [n.id, n]))
  const selfUs = new Map<number, number>()
  // timeDeltas[i] is the time since the previous sample; charge it to sample i's node
  for (let i = 0; i < profile.samples.length; i++) {
    const id = profile.samples[i] as number
    selfUs.set(id, (selfUs.get(id) ?? 0) + Math.max(0, profile.timeDeltas[i] ?? 0))
  }
  const totalUs = profile.endTime - profile.startTime
  const byFunction = new Map<string, { fn: string, location: string, area: string, us: number }>()
  const byArea = new Map<string, number>()
  let idleUs = 0
  for (const [id, us] of selfUs) {
    const node = byId.get(id)
    if (node === undefined) continue
    const frame = node.callFrame
    if (frame.functionName === '(idle)') {
      idleUs += us
      continue
    }
    const area = areaOf(frame, repoRoot)
    byArea.set(area, (byArea.get(area) ?? 0) + us)
    const location = await locationOf(frame, repoRoot)
    const fn = frame.functionName === '' ? '(anonymous)' : frame.functionName
    const key = `${fn} ${location}`
    const entry = byFunction.get(key) ?? { fn, location, area, us: 0 }
    entry.us += us
    byFunction.set(key, entry)
  }
  const busyUs = Math.max(1, totalUs - idleUs)
  const top = [...byFunction.values()].sort((a, b) => b.us - a.us).slice(0, topN).map(e => ({
    fn: e.fn,
    location: e.location,
    area: e.area,
    selfMs: round(e.us / 1000, 1),
    percent: round(e.us / busyUs * 100, 1)
  }))
  const areas = [...byArea.entries()].sort((a, b) => b[1] - a[1]).map(([area, us]) => ({ area, selfMs: round(us / 1000, 1), percent: round(us / busyUs * 100, 1) }))
  return { file, totalMs: round(totalUs / 1000, 0), busyMs: round(busyUs / 1000, 0), top, areas }
}

/** A markdown table of the top functions and the areas above `minAreaPercent`. */
export function profileMarkdown (title: string, s: ProfileSummary, topN = 15, minAreaPercent = 2): string {
  const lines = [
    `#### ${title}`,
    '',
    `Busy ${s.busyMs} ms of ${s.totalMs} ms profiled. By area (self time, share of busy time): ` +
      s.areas.filter(a => a.percent >= minAreaPercent).map(a => `${a.area} ${a.percent}%`).join(', ') + '.',
    '',
    '| self % | self ms | function | where |',
    '|---:|---:|---|---|'
  ]
  for (const e of s.top.slice(0, topN)) lines.push(`| ${e.percent} | ${e.selfMs} | \`${e.fn}\` | ${e.location === '' ? e.area : `\`${e.location}\``} |`)
  return lines.join('\n')
}

/** `node dist/scripts/bench/cpu-profile.js <file.cpuprofile>...`: print the summaries. */
async function cli (): Promise<void> {
  const repoRoot = fileURLToPath(new URL('../../../', import.meta.url))
  for (const file of process.argv.slice(2)) {
    process.stdout.write(profileMarkdown(path.basename(file), await summarizeProfile(file, repoRoot, 30), 30, 1) + '\n\n')
  }
}

if (process.argv[1] !== undefined && fileURLToPath(import.meta.url) === path.resolve(process.argv[1])) {
  cli().catch((err: unknown) => { process.stderr.write(String((err as Error).stack ?? err) + '\n'); process.exitCode = 1 })
}
