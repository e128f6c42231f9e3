/**
 * A set of sequence numbers kept as sorted, disjoint, non-adjacent closed intervals. Sync uses it
 * for ranges in flight, ranges already settled and ranges a peer has been asked for, so its memory
 * grows with the number of holes, not with the number of records.
 */
export type Interval = readonly [from: number, to: number]

export class IntervalSet {
  private ranges: Array<[number, number]> = []

  get intervalCount (): number {
    return this.ranges.length
  }

  /** How many sequences the set holds. */
  get size (): number {
    let n = 0
    for (const [a, b] of this.ranges) n += b - a + 1
    return n
  }

  isEmpty (): boolean {
    return this.ranges.length === 0
  }

  intervals (): Interval[] {
    return this.ranges.map(([a, b]) => [a, b] as const)
  }

  has (seq: number): boolean {
    return this.coverEnd(seq) !== undefined
  }

  /** The end of the interval holding seq, or undefined when seq is not in the set. */
  coverEnd (seq: number): number | undefined {
    for (const [a, b] of this.ranges) {
      if (seq < a) return undefined
      if (seq <= b) return b
    }
    return undefined
  }

  /** The start of the first interval that begins after seq, or undefined. */
  nextStartAfter (seq: number): number | undefined {
    for (const [a] of this.ranges) {
      if (a > seq) return a
    }
    return undefined
  }

  add (from: number, to: number = from): void {
    if (to < from) return
    const out: Array<[number, number]> = []
    let lo = from
    let hi = to
    let placed = false
    for (const [a, b] of this.ranges) {
      if (b < lo - 1) {
        out.push([a, b])
      } else if (a > hi + 1) {
        if (!placed) { out.push([lo, hi]); placed = true }
        out.push([a, b])
      } else {
        lo = Math.min(lo, a)
        hi = Math.max(hi, b)
      }
    }
    if (!placed) out.push([lo, hi])
    this.ranges = out
  }

  remove (from: number, to: number = from): void {
    if (to < from) return
    const out: Array<[number, number]> = []
    for (const [a, b] of this.ranges) {
      if (b < from || a > to) {
        out.push([a, b])
        continue
      }
      if (a < from) out.push([a, from - 1])
      if (b > to) out.push([to + 1, b])
    }
    this.ranges = out
  }

  /** Forgets every sequence <= seq. */
  removeUpTo (seq: number): void {
    if (this.ranges.length > 0) this.remove(Number.MIN_SAFE_INTEGER, seq)
  }

  clear (): void {
    this.ranges = []
  }
}

/**
 * The first run of sequences in [from, to] covered by none of `sets`, at most `maxLength` long,
 * or undefined when every sequence in [from, to] is covered.
 */
export function firstFreeRun (from: number, to: number, sets: IntervalSet[], maxLength: number): Interval | undefined {
  let start = from
  for (let moved = true; moved && start <= to;) {
    moved = false
    for (const set of sets) {
      const end = set.coverEnd(start)
      if (end !== undefined) {
        start = end + 1
        moved = true
      }
    }
  }
  if (start > to) return undefined
  let end = Math.min(to, start + maxLength - 1)
  for (const set of sets) {
    const next = set.nextStartAfter(start)
    if (next !== undefined) end = Math.min(end, next - 1)
  }
  return [start, end]
}
