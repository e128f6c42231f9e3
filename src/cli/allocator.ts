import { accessSync, constants, readFileSync } from 'node:fs'

/**
 * Which malloc a node runs with. glibc's malloc keeps native memory the node freed, so a
 * long-running node's resident set creeps up while its heap stays flat; with jemalloc it stays
 * lower (BENCHMARKS.md, rounds 16 and 18). jemalloc has to be preloaded before the process
 * starts, so `cdgossip start` re-executes itself once, on the same PID, with LD_PRELOAD naming the
 * library when it finds one (process.execve, Node.js 22.15 and later). CDGOSSIP_MALLOC=system
 * keeps the system's malloc; CDGOSSIP_MALLOC=/path/to/libjemalloc.so.2 names one installed
 * elsewhere.
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

/** What `cdgossip start` should do about its allocator. Pure: prepareMalloc acts on it. */
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

let keptReason: string | undefined

/**
 * For `cdgossip start` run from bin/cdgossip.js, before anything else: re-execute with jemalloc
 * preloaded when chooseMalloc says so (this call then never returns), else remember why not for
 * the start banner. In the re-executed process, LD_PRELOAD goes back to what it was, so the
 * commands and hooks the node starts get the malloc they would have had without cdgossip.
 * Returns the problem when CDGOSSIP_MALLOC asks for something that cannot be.
 */
export function prepareMalloc (): string | undefined {
  const execve = processExecve()
  const decision = chooseMalloc(thisProcess())
  if (decision.action === 'refuse') return decision.problem
  if (decision.action === 'reexec' && execve !== undefined) {
    try {
      execve.call(process, process.execPath, [process.execPath, ...process.execArgv, ...process.argv.slice(1)], decision.env)
    } catch (err) {
      keptReason = `the system's: re-executing with ${decision.library} failed (${err instanceof Error ? err.message : String(err)})`
      return undefined
    }
  }
  keptReason = decision.action === 'keep' ? decision.reason : undefined
  restorePreload(process.env)
  return undefined
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
