import { readdir, readFile } from 'node:fs/promises'
import { VERIFY_WORKER_NAME } from '../../src/signing/index.js'

/**
 * CPU time of whole processes (every thread: the event loop, verify workers, LevelDB's
 * compaction thread, the broker's schedulers) from /proc/<pid>/stat, Linux only. The efficiency
 * figures divide it by the events delivered.
 */

/**
 * Clock ticks per second of utime/stime. Linux reports them in USER_HZ, which the kernel fixes at
 * 100 on every architecture Node runs on (`getconf CLK_TCK`).
 */
export const CLOCK_TICKS_PER_SEC = 100

export interface ProcCpu {
  /** user + system time of the process and all its threads, in ms */
  cpuMs: number
}

/**
 * utime + stime of one /proc/<pid>/stat line, in ms. The command name (field 2) sits in
 * parentheses and may itself hold spaces and parentheses, so the fields are counted from the
 * last ')'. Returns undefined for text that is not a stat line.
 */
export function parseProcStat (text: string): ProcCpu | undefined {
  const close = text.lastIndexOf(')')
  if (close < 0) return undefined
  // after ')': state(3) ppid(4) … utime(14) stime(15); index 0 here is field 3
  const fields = text.slice(close + 1).trim().split(/\s+/)
  const utime = Number(fields[11])
  const stime = Number(fields[12])
  if (!Number.isInteger(utime) || !Number.isInteger(stime) || utime < 0 || stime < 0) return undefined
  return { cpuMs: (utime + stime) * 1000 / CLOCK_TICKS_PER_SEC }
}

/** CPU time of `pid` so far, or undefined when it is gone (or not Linux). */
export async function cpuOf (pid: number): Promise<number | undefined> {
  try {
    return parseProcStat(await readFile(`/proc/${pid}/stat`, 'utf8'))?.cpuMs
  } catch {
    return undefined
  }
}

export interface CpuUsage {
  /** CPU ms each named process used between start and stop */
  byProcess: Record<string, number>
  totalMs: number
  wallMs: number
}

/**
 * CPU used by a set of processes over a window: `stop()` minus `start()`. A process that exits
 * inside the window has no end reading and is left out (the window should not outlive them).
 */
export class CpuMeter {
  private startAt = 0
  private readonly before = new Map<string, number>()

  constructor (private readonly pids: Readonly<Record<string, number>>) {}

  async start (): Promise<void> {
    this.before.clear()
    for (const [name, pid] of Object.entries(this.pids)) {
      const ms = await cpuOf(pid)
      if (ms !== undefined) this.before.set(name, ms)
    }
    this.startAt = performance.now()
  }

  async stop (): Promise<CpuUsage> {
    const wallMs = performance.now() - this.startAt
    const after: Array<[string, number | undefined]> = []
    for (const [name, pid] of Object.entries(this.pids)) after.push([name, await cpuOf(pid)])
    return cpuDelta(this.before, after, wallMs)
  }
}

/** The per-process difference of two readings; processes missing from either side are left out. */
export function cpuDelta (before: ReadonlyMap<string, number>, after: ReadonlyArray<readonly [string, number | undefined]>, wallMs: number): CpuUsage {
  const byProcess: Record<string, number> = {}
  let totalMs = 0
  for (const [name, end] of after) {
    const begin = before.get(name)
    if (begin === undefined || end === undefined) continue
    byProcess[name] = end - begin
    totalMs += end - begin
  }
  return { byProcess, totalMs, wallMs }
}

/** `A 370 ms, B 430 ms, …` for the report. */
export function describeCpu (usage: CpuUsage): string {
  return Object.entries(usage.byProcess).map(([name, ms]) => `${name} ${Math.round(ms)} ms`).join(', ')
}

/**
 * Context switches (voluntary + involuntary) in one /proc/<pid>/task/<tid>/status text, or
 * undefined when it lacks them. Each is a thread going to sleep or being preempted: a handoff to
 * a LevelDB or verify thread, a wait for the socket. On a VM that wakes an idle vCPU through the
 * hypervisor, each costs tens to hundreds of µs: at light load, most of a node's CPU per event.
 */
export function parseContextSwitches (status: string): number | undefined {
  const voluntary = /^voluntary_ctxt_switches:\s+(\d+)$/m.exec(status)?.[1]
  const involuntary = /^nonvoluntary_ctxt_switches:\s+(\d+)$/m.exec(status)?.[1]
  if (voluntary === undefined || involuntary === undefined) return undefined
  return Number(voluntary) + Number(involuntary)
}

/** The ids of `pid`'s live threads, or undefined when the process is gone. */
async function threadIdsOf (pid: number): Promise<string[] | undefined> {
  try {
    return await readdir(`/proc/${pid}/task`)
  } catch {
    return undefined
  }
}

/** Context switches of every thread of `pid` so far (threads that already ended are not counted), or undefined when it is gone. */
export async function contextSwitchesOf (pid: number): Promise<number | undefined> {
  const tids = await threadIdsOf(pid)
  if (tids === undefined) return undefined
  let total = 0
  for (const tid of tids) {
    try {
      total += parseContextSwitches(await readFile(`/proc/${pid}/task/${tid}/status`, 'utf8')) ?? 0
    } catch { /* the thread ended between the listing and the read */ }
  }
  return total
}

/**
 * What a node's threads do, told apart by the names Node.js gives them (24 names them; 20 calls
 * every thread `node`, so there all but `main` count as `other`):
 * - `main`: the event loop (the thread whose id is the process id);
 * - `libuv`: libuv's thread pool, which runs LevelDB's reads and writes, and LevelDB's compaction
 *   thread, which inherits the name of the pool thread that started it;
 * - `v8`: V8's helpers (concurrent and parallel GC, background compilation);
 * - `verify`: the signature verify workers (VERIFY_WORKER_NAME, src/signing/verify-pool.ts).
 */
export type ThreadKind = 'main' | 'libuv' | 'v8' | 'verify' | 'other'

export const THREAD_KINDS: readonly ThreadKind[] = ['main', 'libuv', 'v8', 'verify', 'other']

/** The kind of thread `tid` of process `pid`, from its /proc comm (at most 15 characters). */
export function threadKind (pid: number, tid: number, comm: string): ThreadKind {
  if (tid === pid) return 'main'
  if (comm.startsWith('libuv-worker')) return 'libuv'
  if (comm.startsWith('V8Worker')) return 'v8'
  if (comm.startsWith(VERIFY_WORKER_NAME)) return 'verify'
  return 'other'
}

export type ThreadCpu = Record<ThreadKind, number>

/** A reading of no CPU in any kind of thread. */
export function noThreadCpu (): ThreadCpu {
  return { main: 0, libuv: 0, v8: 0, verify: 0, other: 0 }
}

/**
 * CPU ms so far of `pid`'s live threads, summed by kind, or undefined when the process is gone.
 * A thread that has already ended is not counted: read it over windows its threads outlive.
 */
export async function threadCpuOf (pid: number): Promise<ThreadCpu | undefined> {
  const tids = await threadIdsOf(pid)
  if (tids === undefined) return undefined
  const byKind = noThreadCpu()
  for (const tid of tids) {
    try {
      const stat = await readFile(`/proc/${pid}/task/${tid}/stat`, 'utf8')
      const cpu = parseProcStat(stat)
      if (cpu === undefined) continue
      const comm = stat.slice(stat.indexOf('(') + 1, stat.lastIndexOf(')'))
      byKind[threadKind(pid, Number(tid), comm)] += cpu.cpuMs
    } catch { /* the thread ended between the listing and the read */ }
  }
  return byKind
}

/** `later` minus `earlier`, kind by kind. */
export function threadCpuDelta (earlier: ThreadCpu, later: ThreadCpu): ThreadCpu {
  const delta = noThreadCpu()
  for (const kind of THREAD_KINDS) delta[kind] = later[kind] - earlier[kind]
  return delta
}

/**
 * CPU ms so far of the threads of every process in `pids`, summed by kind; undefined when any of
 * them is gone (a sum missing a process would read as less work).
 */
export async function threadCpuOfAll (pids: readonly number[]): Promise<ThreadCpu | undefined> {
  const readings = await Promise.all(pids.map(threadCpuOf))
  const sum = noThreadCpu()
  for (const reading of readings) {
    if (reading === undefined) return undefined
    for (const kind of THREAD_KINDS) sum[kind] += reading[kind]
  }
  return sum
}

/**
 * What `phase` returned, the CPU every process in `pids` used during it, and the CPU the threads
 * of the processes in `threadsOf` used during it by kind, summed (absent with none, or when one
 * of them is gone by the end).
 */
export async function meterPhase<T> (pids: Record<string, number>, threadsOf: readonly number[], phase: () => Promise<T>): Promise<{ result: T, usage: CpuUsage, threads?: ThreadCpu }> {
  const meter = new CpuMeter(pids)
  const before = threadsOf.length === 0 ? undefined : await threadCpuOfAll(threadsOf)
  await meter.start()
  const result = await phase()
  const usage = await meter.stop()
  const after = before === undefined ? undefined : await threadCpuOfAll(threadsOf)
  return { result, usage, ...(before !== undefined && after !== undefined ? { threads: threadCpuDelta(before, after) } : {}) }
}

/**
 * `event loop 150, LevelDB 50, V8 helpers 12, verify worker 3`: CPU µs per event by kind of
 * thread, the verify worker and other threads only when they used any.
 */
export function describeThreadSplit (threads: ThreadCpu, events: number): string {
  const us = (ms: number): number => events === 0 ? 0 : Math.round(ms * 1000 / events)
  return `event loop ${us(threads.main)}, LevelDB ${us(threads.libuv)}, V8 helpers ${us(threads.v8)}` +
    `${threads.verify > 0 ? `, verify worker ${us(threads.verify)}` : ''}${threads.other > 0 ? `, other ${us(threads.other)}` : ''}`
}

/** One reading of a timeline: ms since it started, events delivered so far, each process's CPU so far by kind of thread. */
export interface TimelineReading {
  atMs: number
  delivered: number
  threads: readonly ThreadCpu[]
}

/** What happened between two consecutive readings, summed over the processes. */
export interface TimelineInterval {
  fromS: number
  toS: number
  deliveredPerSecond: number
  /** CPU ms per second of wall time, by kind of thread (1000 = one core) */
  cpuMsPerSecond: ThreadCpu
}

/**
 * The intervals between consecutive readings. Averages over a whole run hide what comes in
 * bursts (LevelDB's compactions, V8 compiling the hot path): this shows when the CPU went where.
 */
export function timelineIntervals (readings: readonly TimelineReading[]): TimelineInterval[] {
  const intervals: TimelineInterval[] = []
  for (let i = 1; i < readings.length; i++) {
    const from = readings[i - 1] as TimelineReading
    const to = readings[i] as TimelineReading
    const seconds = (to.atMs - from.atMs) / 1000
    if (!(seconds > 0)) continue
    const cpu = noThreadCpu()
    to.threads.forEach((later, p) => {
      const delta = threadCpuDelta(from.threads[p] ?? later, later)
      // a process gone by the later reading reads 0: it counts as using none, not as negative
      for (const kind of THREAD_KINDS) cpu[kind] += Math.max(delta[kind], 0)
    })
    for (const kind of THREAD_KINDS) cpu[kind] = Math.round(cpu[kind] / seconds)
    intervals.push({
      fromS: Number((from.atMs / 1000).toFixed(1)),
      toS: Number((to.atMs / 1000).toFixed(1)),
      deliveredPerSecond: Math.round((to.delivered - from.delivered) / seconds),
      cpuMsPerSecond: cpu
    })
  }
  return intervals
}
