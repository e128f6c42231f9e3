import { accessSync, constants, readFileSync } from 'node:fs'
import { totalmem } from 'node:os'

/**
 * How `cdgossip start` sets up its process's memory before anything else runs: which malloc, and
 * how large V8's young generation may grow. Both can only be chosen when a process starts, so
 * `cdgossip start` re-executes itself once, on the same PID (process.execve, Node.js 22.15 and
 * later), when it has something to set.
 *
 * malloc: glibc's keeps native memory the node freed, so a long-running node's resident set creeps
 * up while its heap stays flat; with jemalloc it stays lower (BENCHMARKS.md, rounds 16 and 18). The
 * re-executed process has LD_PRELOAD naming the library when one is installed.
 * CDGOSSIP_MALLOC=system keeps the system's malloc; CDGOSSIP_MALLOC=/path/to/libjemalloc.so.2
 * names one installed elsewhere.
 *
 * Young generation: Node.js 24's V8 sizes its semi-spaces from the memory the process may use (the
 * RAM, or a cgroup's limit): 64 MiB each from 4 GiB up, a 128 MiB young generation that is resident
 * under load. Semi-spaces of 32 MiB lowered a node's peak by 20–50 MiB in federation and 25–85 MiB
 * in catch-up, with no CPU cost measured (BENCHMARKS.md, rounds 7 and 20); 16 MiB saved more but
 * cost CPU. A --max-semi-space-size in the node's own flags or in NODE_OPTIONS is left as it is.
 */

/** Where Debian and Ubuntu (`apt-get install libjemalloc2`), Fedora/RHEL and Arch install it. */
export const JEMALLOC_PATHS: readonly string[] = [
  '/usr/lib/x86_64-linux-gnu/libjemalloc.so.2',
  '/usr/lib/aarch64-linux-gnu/libjemalloc.so.2',
  '/usr/lib64/libjemalloc.so.2',
  '/usr/lib/libjemalloc.so.2'
]

/**
 * Set only in the re-executed process, whose LD_PRELOAD cdgossip set (it re-executes only when
 * LD_PRELOAD was empty). Also means "already re-executed": a preload that did not take never
 * causes a second attempt.
 */
export const PRELOADED = 'CDGOSSIP_MALLOC_PRELOADED'

type Env = Readonly<Record<string, string | undefined>>

export type MallocDecision =
  | { action: 'reexec', library: string, env: Record<string, string | undefined> }
  | { action: 'keep', reason: string }
  /** CDGOSSIP_MALLOC asks for something that cannot be: `cdgossip start` stops with this */
  | { action: 'refuse', problem: string }

export interface MallocSituation {
  env: Env
  platform: NodeJS.Platform
  /** process.execve is there (Node.js 22.15+, 23.11+) */
  canReexec: boolean
  /** the jemalloc this process has mapped, if any */
  loadedJemalloc: () => string | undefined
  /** the first of `paths` that is a readable file, if any */
  installedJemalloc: (paths: readonly string[]) => string | undefined
}

/** What `cdgossip start` should do about its allocator. Pure: prepareMemory acts on it. */
export function chooseMalloc (s: MallocSituation): MallocDecision {
  const loaded = s.platform === 'linux' ? s.loadedJemalloc() : undefined
  if (loaded !== undefined) return { action: 'keep', reason: `jemalloc ${loaded}` }
  const preload = s.env.LD_PRELOAD ?? ''
  if (s.env[PRELOADED] !== undefined) return { action: 'keep', reason: `the system's: preloading ${preload.split(':')[0] ?? ''} failed` }
  const setting = s.env.CDGOSSIP_MALLOC ?? 'auto'
  if (setting === 'system') return { action: 'keep', reason: 'the system\'s: CDGOSSIP_MALLOC=system' }
  if (setting !== 'auto' && !setting.startsWith('/')) {
    return { action: 'refuse', problem: `CDGOSSIP_MALLOC=${JSON.stringify(setting.slice(0, 80))}: use auto (the default), system, or the absolute path of a libjemalloc.so.2` }
  }
  if (s.platform !== 'linux') return { action: 'keep', reason: 'the system\'s' }
  if (preload !== '') return { action: 'keep', reason: 'the system\'s: LD_PRELOAD is set, cdgossip leaves it alone' }
  if (!s.canReexec) return { action: 'keep', reason: 'the system\'s: this Node.js cannot re-execute itself to preload jemalloc (22.15 and later can)' }
  const library = s.installedJemalloc(setting === 'auto' ? JEMALLOC_PATHS : [setting])
  if (library === undefined) {
    return setting === 'auto'
      ? { action: 'keep', reason: 'the system\'s: no jemalloc installed (apt-get install libjemalloc2 keeps the resident set lower)' }
      : { action: 'refuse', problem: `CDGOSSIP_MALLOC=${setting}: no readable file there` }
  }
  return { action: 'reexec', library, env: { ...s.env, LD_PRELOAD: library, [PRELOADED]: '1' } }
}

export function installedJemalloc (paths: readonly string[]): string | undefined {
  for (const path of paths) {
    try {
      accessSync(path, constants.R_OK)
      return path
    } catch {
      // absent or unreadable: the next place
    }
  }
  return undefined
}

/** The jemalloc shared object this process has mapped (from /proc/self/maps), if any. */
export function loadedJemalloc (maps = '/proc/self/maps'): string | undefined {
  let text: string
  try {
    text = readFileSync(maps, 'utf8')
  } catch {
    return undefined
  }
  return /\s(\/\S*libjemalloc[^\s/]*)$/m.exec(text)?.[1]
}

type Execve = (file: string, args: readonly string[], env: Record<string, string | undefined>) => never

/** process.execve, which @types/node for Node 20 does not declare. */
function processExecve (): Execve | undefined {
  const execve = (process as unknown as { execve?: Execve }).execve
  return typeof execve === 'function' ? execve : undefined
}

/** This process as chooseMalloc sees it: its environment, platform, runtime and libraries. */
export function thisProcess (): MallocSituation {
  return {
    env: process.env,
    platform: process.platform,
    canReexec: processExecve() !== undefined,
    loadedJemalloc: () => loadedJemalloc(),
    installedJemalloc
  }
}

/** The semi-space size, MiB, `cdgossip start` gives V8 where V8 would choose more (the young generation is twice it). */
export const DEFAULT_SEMI_SPACE_MIB = 32

/**
 * Below this much memory (RAM, or the cgroup's limit) Node.js 24's V8 chooses semi-spaces of at most
 * DEFAULT_SEMI_SPACE_MIB itself: the flag would raise them there, not cap them. Measured: 64 MiB
 * with 4 GiB and more, 32 with 1.5–2 GiB, 16 with 1 GiB; Node.js 20 and 22 at most 16 MiB.
 */
export const SEMI_SPACE_CAP_FROM_BYTES = 2 * 1024 ** 3

/** Set only in a process cdgossip re-executed with its young generation flag; the banner tells it from one given by hand. */
export const YOUNG_GENERATION_SET = 'CDGOSSIP_YOUNG_GENERATION_SET'

/** V8 spells a flag with dashes or underscores; its value may follow as the next argument. */
const SEMI_SPACE_FLAG = /^--max[-_]semi[-_]space[-_]size(?:=|$)/

export interface YoungGenerationSituation {
  execArgv: readonly string[]
  nodeOptions: string | undefined
  nodeMajor: number
  /** what the process may use: the RAM, or the cgroup's limit when lower */
  memoryBytes: number
}

/** The flag `cdgossip start` adds for V8's young generation, or why it adds none. Pure. */
export type YoungGenerationDecision = { flag: string } | { flag?: undefined, reason: string }

export function chooseYoungGeneration (s: YoungGenerationSituation): YoungGenerationDecision {
  const given = [...s.execArgv, ...(s.nodeOptions ?? '').split(/\s+/)]
  const at = given.findIndex(arg => SEMI_SPACE_FLAG.test(arg))
  if (at >= 0) {
    const flag = given[at] as string
    return { reason: `${flag.includes('=') ? flag : `${flag} ${given[at + 1] ?? ''}`} as given` }
  }
  if (s.nodeMajor < 24) return { reason: `V8's own size (semi-spaces of at most 16 MiB on Node.js ${s.nodeMajor})` }
  if (s.memoryBytes < SEMI_SPACE_CAP_FROM_BYTES) return { reason: `V8's own size (semi-spaces of at most ${DEFAULT_SEMI_SPACE_MIB} MiB with under 2 GiB of memory)` }
  return { flag: `--max-semi-space-size=${DEFAULT_SEMI_SPACE_MIB}` }
}

/** This process as chooseYoungGeneration sees it. */
export function thisYoungGeneration (): YoungGenerationSituation {
  // 0 or a huge number when unconstrained (cgroup v1 reports ~2^63)
  const constrained = process.constrainedMemory()
  return {
    execArgv: process.execArgv,
    nodeOptions: process.env.NODE_OPTIONS,
    nodeMajor: Number(process.versions.node.split('.')[0]),
    memoryBytes: constrained > 0 ? Math.min(constrained, totalmem()) : totalmem()
  }
}

let keptReason: string | undefined
let youngGenerationReason: string | undefined

/**
 * For `cdgossip start` run from bin/cdgossip.js, before anything else: re-execute with jemalloc
 * preloaded when chooseMalloc says so, and with the young generation's flag when
 * chooseYoungGeneration gives one (this call then never returns); else remember why not for the
 * start banner. In the re-executed process, LD_PRELOAD goes back to what it was, so the commands
 * and hooks the node starts get the malloc they would have had without cdgossip.
 * Returns the problem when CDGOSSIP_MALLOC asks for something that cannot be.
 */
export function prepareMemory (): string | undefined {
  const execve = processExecve()
  const decision = chooseMalloc(thisProcess())
  if (decision.action === 'refuse') return decision.problem
  if (takeYoungGenerationMarker(process.env)) {
    youngGenerationReason = `--max-semi-space-size=${DEFAULT_SEMI_SPACE_MIB} (cdgossip's default on Node.js 24 with 2 GiB or more; NODE_OPTIONS sets another)`
  }
  const { flag } = chooseYoungGeneration(thisYoungGeneration())
  if ((decision.action === 'reexec' || flag !== undefined) && execve !== undefined) {
    const flags = flag === undefined ? process.execArgv : [...process.execArgv, flag]
    const env = decision.action === 'reexec' ? decision.env : { ...process.env }
    if (flag !== undefined) env[YOUNG_GENERATION_SET] = '1'
    try {
      execve.call(process, process.execPath, [process.execPath, ...flags, ...process.argv.slice(1)], env)
    } catch (err) {
      const why = err instanceof Error ? err.message : String(err)
      keptReason = decision.action === 'reexec' ? `the system's: re-executing with ${decision.library} failed (${why})` : decision.reason
      // a failed re-execution for jemalloc alone leaves the young generation's own reason standing
      if (flag !== undefined) youngGenerationReason = `V8's own size: re-executing with ${flag} failed (${why})`
      return undefined
    }
  }
  if (flag !== undefined) youngGenerationReason = `V8's own size: this Node.js cannot re-execute itself to set ${flag}`
  keptReason = decision.action === 'keep' ? decision.reason : undefined
  restorePreload(process.env)
  return undefined
}

/** Whether cdgossip re-executed this process with its young generation flag; the marker leaves `env`, so the node's child processes do not inherit it. */
export function takeYoungGenerationMarker (env: Record<string, string | undefined>): boolean {
  const set = env[YOUNG_GENERATION_SET] !== undefined
  delete env[YOUNG_GENERATION_SET]
  return set
}

/** In a re-executed process: LD_PRELOAD unset again, as it was before cdgossip set it. */
export function restorePreload (env: Record<string, string | undefined>): void {
  if (env[PRELOADED] === undefined) return
  delete env.LD_PRELOAD
  delete env[PRELOADED]
}

/** The start banner's allocator line. */
export function mallocLine (): string {
  const loaded = process.platform === 'linux' ? loadedJemalloc() : undefined
  return `  malloc    ${loaded !== undefined ? `jemalloc ${loaded}` : keptReason ?? 'the system\'s'}`
}

/** The start banner's young generation line: the flag in effect, or V8's own sizing and why. */
export function youngGenerationLine (): string {
  const decision = chooseYoungGeneration(thisYoungGeneration())
  // a flag decided but not applied: prepareMemory says why, or was not called
  return `  young gen ${youngGenerationReason ?? (decision.flag === undefined ? decision.reason : 'V8\'s own size')}`
}
