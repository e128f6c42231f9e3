/**
 * Token buckets for the hooks listener: `burst` requests at once, then `perSecond` sustained.
 * The clock is injected so the arithmetic is testable without waiting.
 */

export interface BucketRate {
  /** tokens added per second (the sustained rate) */
  perSecond: number
  /** bucket size (the largest burst) */
  burst: number
}

interface Bucket {
  tokens: number
  at: number
}

/**
 * One bucket per key (a source name, a remote address), at most `maxKeys` of them: past that the
 * oldest bucket is forgotten (a flood of new addresses must not grow memory without bound; a
 * forgotten key starts again with a full bucket, which only errs on the side of letting through).
 */
export class KeyedBuckets {
  private readonly rate: BucketRate
  private readonly maxKeys: number
  private readonly now: () => number
  private readonly buckets = new Map<string, Bucket>()

  constructor (rate: BucketRate, maxKeys: number, now: () => number = Date.now) {
    if (!(rate.perSecond > 0) || !(rate.burst >= 1)) throw new Error(`invalid rate: ${JSON.stringify(rate)}`)
    this.rate = rate
    this.maxKeys = maxKeys
    this.now = now
  }

  /**
   * Takes one token for `key`: 0 when there was one (go ahead), else the seconds until one will
   * be there (the `Retry-After` of a 429), at least 1.
   */
  take (key: string): number {
    const now = this.now()
    let bucket = this.buckets.get(key)
    if (bucket === undefined) {
      bucket = { tokens: this.rate.burst, at: now }
      if (this.buckets.size >= this.maxKeys) {
        const oldest = this.buckets.keys().next()
        if (oldest.done !== true) this.buckets.delete(oldest.value)
      }
    } else {
      bucket.tokens = Math.min(this.rate.burst, bucket.tokens + (now - bucket.at) / 1000 * this.rate.perSecond)
      bucket.at = now
      // most recently used last, so the oldest key is the least recently used one
      this.buckets.delete(key)
    }
    this.buckets.set(key, bucket)
    if (bucket.tokens >= 1) {
      bucket.tokens -= 1
      return 0
    }
    return Math.max(1, Math.ceil((1 - bucket.tokens) / this.rate.perSecond))
  }

  forget (key: string): void {
    this.buckets.delete(key)
  }
}
