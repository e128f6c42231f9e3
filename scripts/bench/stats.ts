/** Small statistics and timing helpers shared by the benchmark parts. */

export interface LatencySummary {
  count: number
  p50: number
  p90: number
  p99: number
  max: number
  mean: number
}

/** A stretch of time, epoch milliseconds: a compaction, a collection pause, a soak's reading. */
export interface Span {
  start: number
  end: number
}

/** Nearest-rank percentile of an ascending array; NaN when empty. */
export function percentile (sorted: readonly number[], p: number): number {
  if (sorted.length === 0) return Number.NaN
  const rank = Math.min(sorted.length - 1, Math.max(0, Math.ceil((p / 100) * sorted.length) - 1))
  return sorted[rank] as number
}

export function summarize (values: readonly number[]): LatencySummary {
  const sorted = [...values].sort((a, b) => a - b)
  const sum = sorted.reduce((a, b) => a + b, 0)
  return {
    count: sorted.length,
    p50: round(percentile(sorted, 50)),
    p90: round(percentile(sorted, 90)),
    p99: round(percentile(sorted, 99)),
    max: round(sorted.length === 0 ? Number.NaN : sorted[sorted.length - 1] as number),
    mean: round(sorted.length === 0 ? Number.NaN : sum / sorted.length)
  }
}

/**
 * The item whose `key` is the median of repeated measurements (the lower middle for an even
 * count): the figure a part reports when it runs the same measurement several times.
 */
export function medianBy<T> (items: readonly T[], key: (item: T) => number): T {
  if (items.length === 0) throw new RangeError('the median of no measurements')
  const sorted = [...items].sort((x, y) => key(x) - key(y))
  return sorted[Math.floor((sorted.length - 1) / 2)] as T
}

/** Two decimals are more than a millisecond clock deserves; keeps the JSON readable. */
export function round (value: number, digits = 2): number {
  if (!Number.isFinite(value)) return value
  const f = 10 ** digits
  return Math.round(value * f) / f
}

export function rate (count: number, ms: number): number {
  return ms <= 0 ? Number.NaN : round(count / (ms / 1000), 1)
}

export const sleep = async (ms: number): Promise<void> => { await new Promise(resolve => setTimeout(resolve, ms)) }

export class TimeoutError extends Error {
  constructor (message: string) {
    super(message)
    this.name = 'TimeoutError'
  }
}

/**
 * Poll `check` every `intervalMs` until it returns true or `timeoutMs` passes; bounded in both
 * count and time, as every benchmark loop must be.
 */
export async function waitUntil (check: () => boolean | Promise<boolean>, options: { timeoutMs: number, intervalMs?: number, message: string }): Promise<void> {
  const interval = options.intervalMs ?? 50
  const deadline = performance.now() + options.timeoutMs
  const maxRounds = Math.ceil(options.timeoutMs / interval) + 1
  for (let round = 0; round < maxRounds; round++) {
    if (await check()) return
    if (performance.now() >= deadline) break
    await sleep(interval)
  }
  if (await check()) return
  throw new TimeoutError(`timed out after ${options.timeoutMs} ms waiting for ${options.message}`)
}

/** Peak and current resident set size of a process, from /proc (Linux); undefined elsewhere. */
export async function memoryOf (pid: number): Promise<{ peakRssMiB: number, rssMiB: number } | undefined> {
  const { readFile } = await import('node:fs/promises')
  try {
    const status = await readFile(`/proc/${pid}/status`, 'utf8')
    const kib = (field: string): number => Number(new RegExp(`^${field}:\\s+(\\d+) kB`, 'm').exec(status)?.[1] ?? Number.NaN)
    return { peakRssMiB: round(kib('VmHWM') / 1024, 1), rssMiB: round(kib('VmRSS') / 1024, 1) }
  } catch {
    return undefined
  }
}

/** Ratio a/b, rounded; undefined when either side is missing. */
export function ratio (a: number | undefined, b: number | undefined): number | undefined {
  if (a === undefined || b === undefined || !Number.isFinite(a) || !Number.isFinite(b) || b === 0) return undefined
  return round(a / b, 2)
}
