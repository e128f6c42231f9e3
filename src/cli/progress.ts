/**
 * One progress line for long CLI operations (export, import): count, rate and, when the total is
 * known, percentage and ETA. It draws only on a terminal: piped or redirected stderr gets
 * nothing, and stdout is never touched, so `cdgossip export > file` stays pure data.
 */

/** Redraw at most this often: faster is flicker, and each redraw is a write syscall. */
export const PROGRESS_INTERVAL_MS = 250

/** The part of a stream progress needs (process.stderr satisfies it). */
export interface ProgressStream {
  isTTY?: boolean
  columns?: number
  write: (chunk: string) => boolean
}

export interface ProgressComponents {
  stream: ProgressStream
  /** @default Date.now */
  now?: () => number
}

export interface ProgressInit {
  /** the verb shown before the count, e.g. `exported` */
  label: string
  /** items expected; unknown totals show count and rate only */
  total?: number
  /** @default PROGRESS_INTERVAL_MS */
  intervalMs?: number
}

export interface ProgressState {
  label: string
  done: number
  total?: number
  elapsedMs: number
}

/** `1,234`: counts read at a glance. */
const count = (n: number): string => Math.round(n).toLocaleString('en-US')

function duration (seconds: number): string {
  const s = Math.max(0, Math.round(seconds))
  const h = Math.floor(s / 3600)
  const m = Math.floor((s % 3600) / 60)
  const rest = String(s % 60).padStart(2, '0')
  return h > 0 ? `${h}:${String(m).padStart(2, '0')}:${rest}` : `${m}:${rest}`
}

/** The line for a state: `imported 1,200 / 5,000 (24%)  800/s  ETA 0:05`. */
export function formatProgress (state: ProgressState): string {
  const seconds = state.elapsedMs / 1000
  const rate = seconds > 0 ? state.done / seconds : 0
  const parts = [state.total === undefined ? `${state.label} ${count(state.done)}` : `${state.label} ${count(state.done)} / ${count(state.total)} (${state.total === 0 ? 100 : Math.min(100, Math.floor(state.done * 100 / state.total))}%)`]
  if (rate > 0) parts.push(`${count(rate)}/s`)
  if (state.total !== undefined && rate > 0 && state.done < state.total) parts.push(`ETA ${duration((state.total - state.done) / rate)}`)
  return parts.join('  ')
}

/** Erase the terminal line and return to its start. */
const CLEAR_LINE = '\r\x1b[2K'

export class Progress {
  readonly enabled: boolean
  private readonly stream: ProgressStream
  private readonly now: () => number
  private readonly label: string
  private readonly intervalMs: number
  private total: number | undefined
  private readonly startedAt: number
  private lastDrawAt = -Infinity
  private done = 0
  private ended = false

  constructor (components: ProgressComponents, init: ProgressInit) {
    this.stream = components.stream
    this.now = components.now ?? Date.now
    this.enabled = components.stream.isTTY === true
    this.label = init.label
    this.total = init.total
    this.intervalMs = init.intervalMs ?? PROGRESS_INTERVAL_MS
    this.startedAt = this.now()
  }

  /** The total, once it is known (e.g. after a count request). */
  setTotal (total: number): void {
    this.total = total
  }

  /** `n` more items are done; redraws when the interval has passed. */
  add (n: number): void {
    this.done += n
    if (!this.enabled || this.ended) return
    const now = this.now()
    if (now - this.lastDrawAt < this.intervalMs) return
    this.lastDrawAt = now
    this.draw(now)
  }

  /** Final line, then a newline so what follows starts on a line of its own. Idempotent. */
  end (): void {
    if (!this.enabled || this.ended) return
    this.ended = true
    this.draw(this.now())
    this.stream.write('\n')
  }

  private draw (now: number): void {
    let line = formatProgress({ label: this.label, done: this.done, total: this.total, elapsedMs: now - this.startedAt })
    const width = this.stream.columns
    // a wrapped line cannot be erased with \r: keep it inside the terminal
    if (width !== undefined && width > 1 && line.length >= width) line = line.slice(0, width - 1)
    this.stream.write(CLEAR_LINE + line)
  }
}
