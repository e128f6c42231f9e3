import { readFileSync } from 'node:fs'
import { describe, expect, it } from 'vitest'
import { Worker } from 'node:worker_threads'
import { VERIFY_WORKER_NAME } from '../../src/signing/index.js'
import { CLOCK_TICKS_PER_SEC, CpuMeter, contextSwitchesOf, cpuDelta, cpuOf, describeThreadSplit, noThreadCpu, parseContextSwitches, meterPhase, parseProcStat, threadCpuDelta, threadCpuOf, threadCpuOfAll, threadKind, timelineIntervals } from '../../scripts/bench/proc-cpu.js'

/** A /proc/<pid>/stat line with `utime` and `stime` in ticks and the given command name. */
function statLine (comm: string, utime: number, stime: number): string {
  // fields 3..13, then utime (14), stime (15), then the rest
  return `4242 (${comm}) S 1 4242 4242 0 -1 4194560 1200 0 3 0 ${utime} ${stime} 0 0 20 0 11 0 5000 1000000 20000 18446744073709551615`
}

/** Spins until this process used at least `ms` of CPU. */
function burnCpu (ms: number): void {
  const start = process.cpuUsage()
  for (;;) {
    const used = process.cpuUsage(start)
    if ((used.user + used.system) / 1000 >= ms) return
  }
}

describe('parseProcStat', () => {
  it('adds utime and stime and converts clock ticks to ms', () => {
    expect(parseProcStat(statLine('node', 250, 50))).toEqual({ cpuMs: 300 * 1000 / CLOCK_TICKS_PER_SEC })
  })

  it('counts fields from the last parenthesis, so a command name with spaces and parentheses does not shift them', () => {
    expect(parseProcStat(statLine('node (worker) 2', 7, 3))).toEqual({ cpuMs: 10 * 1000 / CLOCK_TICKS_PER_SEC })
  })

  it('refuses text that is not a stat line', () => {
    expect(parseProcStat('')).toBeUndefined()
    expect(parseProcStat('4242 (node) S 1')).toBeUndefined()
    expect(parseProcStat(statLine('node', -1, 3))).toBeUndefined()
  })
})

describe('parseContextSwitches', () => {
  it('adds the voluntary and involuntary switches of a task status', () => {
    const status = 'Name:\tnode\nState:\tS (sleeping)\nThreads:\t11\nvoluntary_ctxt_switches:\t1200\nnonvoluntary_ctxt_switches:\t34\n'
    expect(parseContextSwitches(status)).toBe(1234)
  })

  it('refuses a status without both counts', () => {
    expect(parseContextSwitches('Name:\tnode\nvoluntary_ctxt_switches:\t1200\n')).toBeUndefined()
    expect(parseContextSwitches('')).toBeUndefined()
  })
})

describe('cpuDelta', () => {
  it('subtracts per process and leaves out processes missing from either reading', () => {
    const before = new Map([['A', 100], ['B', 50], ['gone', 10]])
    const usage = cpuDelta(before, [['A', 180], ['B', 55], ['gone', undefined], ['late', 40]], 1000)
    expect(usage).toEqual({ byProcess: { A: 80, B: 5 }, totalMs: 85, wallMs: 1000 })
  })
})

describe('reading /proc', () => {
  it('sees this process use the CPU it burns', async () => {
    const meter = new CpuMeter({ self: process.pid })
    await meter.start()
    burnCpu(60)
    const usage = await meter.stop()
    // /proc counts in 10 ms ticks: 60 ms burnt shows as at least 50
    expect(usage.byProcess.self).toBeGreaterThanOrEqual(50)
    expect(usage.totalMs).toBe(usage.byProcess.self)
  })

  it('answers undefined for a process that does not exist', async () => {
    // pid_max is at most 2^22 on Linux
    expect(await cpuOf(2 ** 22 + 1)).toBeUndefined()
    expect(await contextSwitchesOf(2 ** 22 + 1)).toBeUndefined()
  })

  it('counts a thread going to sleep, and sums every thread of the process', async () => {
    // read synchronously: /proc/thread-self is the thread that reads, here the test's own
    const own = (): number => parseContextSwitches(readFileSync('/proc/thread-self/status', 'utf8')) as number
    const before = own()
    // this thread blocks in epoll until the timer fires: a voluntary switch
    await new Promise(resolve => { setTimeout(resolve, 20) })
    const after = own()
    expect(after).toBeGreaterThan(before)
    expect(await contextSwitchesOf(process.pid)).toBeGreaterThanOrEqual(after)
  })
})

describe('CPU by kind of thread', () => {
  it('tells the event loop by its id and the other threads by the names Node.js gives them', () => {
    expect(threadKind(4242, 4242, 'MainThread')).toBe('main')
    // Node.js 20 calls every thread `node`: only the event loop is told apart there
    expect(threadKind(4242, 4242, 'node')).toBe('main')
    expect(threadKind(4242, 4250, 'node')).toBe('other')
    expect(threadKind(4242, 4243, 'libuv-worker')).toBe('libuv')
    expect(threadKind(4242, 4244, 'V8Worker')).toBe('v8')
    expect(threadKind(4242, 4245, VERIFY_WORKER_NAME)).toBe('verify')
    expect(threadKind(4242, 4246, 'DelayedTaskSche')).toBe('other')
  })

  it('subtracts kind by kind', () => {
    expect(threadCpuDelta({ main: 10, libuv: 5, v8: 2, verify: 0, other: 1 }, { main: 40, libuv: 15, v8: 2, verify: 3, other: 1 }))
      .toEqual({ main: 30, libuv: 10, v8: 0, verify: 3, other: 0 })
  })

  it('charges CPU burnt on the event loop to main and CPU burnt in a worker to another kind', async () => {
    const before = await threadCpuOf(process.pid)
    burnCpu(60)
    // a worker named as the verify pool names its thread, burning ~60 ms before it answers
    const worker = new Worker('const s = process.cpuUsage(); while (true) { const u = process.cpuUsage(s); if (u.user + u.system >= 60000) break } require("node:worker_threads").parentPort.postMessage("done"); setInterval(() => {}, 1000)', { eval: true, name: VERIFY_WORKER_NAME })
    try {
      await new Promise(resolve => worker.once('message', resolve))
      const after = await threadCpuOf(process.pid)
      if (before === undefined || after === undefined) throw new Error('no /proc reading of this process')
      const delta = threadCpuDelta(before, after)
      // /proc counts in 10 ms ticks
      expect(delta.main).toBeGreaterThanOrEqual(50)
      // Node.js 24 names the worker's thread; 20 does not, and it counts as other
      expect(delta.verify + delta.other).toBeGreaterThanOrEqual(50)
    } finally {
      await worker.terminate()
    }
  })

  it('answers undefined for a process that does not exist', async () => {
    expect(await threadCpuOf(2 ** 22 + 1)).toBeUndefined()
  })
})

describe('threadCpuOfAll', () => {
  it('sums the processes kind by kind', async () => {
    burnCpu(30)
    const one = await threadCpuOf(process.pid)
    const twice = await threadCpuOfAll([process.pid, process.pid])
    if (one === undefined || twice === undefined) throw new Error('no /proc reading of this process')
    // the second reading of the pair comes later, so it holds at least as much
    expect(twice.main).toBeGreaterThanOrEqual(2 * one.main)
    expect(twice.main).toBeGreaterThan(0)
  })

  it('answers undefined when any process is gone, rather than a sum missing it', async () => {
    expect(await threadCpuOfAll([process.pid, 2 ** 22 + 1])).toBeUndefined()
  })
})

describe('meterPhase', () => {
  it('returns what the phase returned with the CPU it used, by process and by kind of thread', async () => {
    const { result, usage, threads } = await meterPhase({ self: process.pid }, [process.pid], async () => { burnCpu(60); return 'done' })
    expect(result).toBe('done')
    // /proc counts in 10 ms ticks
    expect(usage.byProcess.self).toBeGreaterThanOrEqual(50)
    expect(threads?.main).toBeGreaterThanOrEqual(50)
  })

  it('leaves the threads out when asked for none', async () => {
    const metered = await meterPhase({ self: process.pid }, [], async () => 1)
    expect(metered).not.toHaveProperty('threads')
  })
})

describe('describeThreadSplit', () => {
  it('gives µs per event by kind, the verify worker and other threads only when they used any', () => {
    const threads = { main: 1590, libuv: 720, v8: 250, verify: 0, other: 0 }
    expect(describeThreadSplit(threads, 10_000)).toBe('event loop 159, LevelDB 72, V8 helpers 25')
    expect(describeThreadSplit({ ...threads, verify: 40, other: 10 }, 10_000)).toBe('event loop 159, LevelDB 72, V8 helpers 25, verify worker 4, other 1')
  })

  it('says 0 rather than dividing by no events', () => {
    expect(describeThreadSplit({ main: 5, libuv: 0, v8: 0, verify: 0, other: 0 }, 0)).toBe('event loop 0, LevelDB 0, V8 helpers 0')
  })
})

describe('timelineIntervals', () => {
  const cpu = (main: number, libuv: number): ReturnType<typeof noThreadCpu> => ({ ...noThreadCpu(), main, libuv })

  it('gives each interval its delivered rate and the CPU per second of all processes, by kind', () => {
    const intervals = timelineIntervals([
      { atMs: 0, delivered: 0, threads: [cpu(100, 10), cpu(200, 20)] },
      { atMs: 2000, delivered: 3000, threads: [cpu(1100, 110), cpu(1200, 120)] },
      { atMs: 4000, delivered: 4000, threads: [cpu(1600, 1110), cpu(1700, 1120)] }
    ])
    expect(intervals).toEqual([
      { fromS: 0, toS: 2, deliveredPerSecond: 1500, cpuMsPerSecond: { ...cpu(1000, 100) } },
      { fromS: 2, toS: 4, deliveredPerSecond: 500, cpuMsPerSecond: { ...cpu(500, 1000) } }
    ])
  })

  it('counts a process that is gone by the later reading (all zeros) as using no CPU', () => {
    const intervals = timelineIntervals([
      { atMs: 0, delivered: 0, threads: [cpu(100, 10), cpu(200, 20)] },
      { atMs: 1000, delivered: 10, threads: [cpu(600, 60), noThreadCpu()] }
    ])
    expect(intervals[0]?.cpuMsPerSecond).toEqual(cpu(500, 50))
  })

  it('skips a reading taken at the same instant as the one before, and gives nothing for fewer than two', () => {
    const reading = { atMs: 1000, delivered: 5, threads: [cpu(1, 1)] }
    expect(timelineIntervals([reading, { ...reading }])).toEqual([])
    expect(timelineIntervals([reading])).toEqual([])
  })
})
