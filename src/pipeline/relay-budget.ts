/**
 * What a relay forwards for origins it does not trust. Records are self-verifying, so a hub may
 * forward any genuine record; but keys are free, and without a bound a stranger could push through
 * every hub as much as its signing rate allows. Each untrusted origin gets a token bucket, and all
 * untrusted origins together share a second one, so minting new keys does not buy more. Origins
 * the relay trusts are never limited: for them it vouches.
 *
 * Per origin: 20 records/s sustained with bursts of 500. A busy CI community publishes a few
 * events a second, and a release publishes a batch (the API takes up to 1,000 per call) that the
 * burst mostly covers; what is held back reaches receivers through sync from any peer that holds it.
 * @default 20
 */
export const UNTRUSTED_RELAY_RATE_PER_S = 20
/** @default 500 */
export const UNTRUSTED_RELAY_BURST = 500
/**
 * All untrusted origins together: 200 records/s, bursts of 2,000, about a tenth of what one node
 * verifies and forwards (see BENCHMARKS.md), so strangers cannot crowd out trusted traffic.
 * @default 200
 */
export const UNTRUSTED_RELAY_TOTAL_RATE_PER_S = 200
/** @default 2_000 */
export const UNTRUSTED_RELAY_TOTAL_BURST = 2_000
/**
 * Untrusted origins with a bucket of their own. Beyond it the least recently seen is forgotten (it
 * starts again with a full bucket); the shared bucket still bounds the total.
 * @default 1_024
 */
export const MAX_UNTRUSTED_RELAY_ORIGINS = 1_024

export interface RelayBudgetInit {
  /** @default UNTRUSTED_RELAY_RATE_PER_S */
  ratePerSecond?: number
  /** @default UNTRUSTED_RELAY_BURST */
  burst?: number
  /** @default UNTRUSTED_RELAY_TOTAL_RATE_PER_S */
  totalRatePerSecond?: number
  /** @default UNTRUSTED_RELAY_TOTAL_BURST */
  totalBurst?: number
  /** @default MAX_UNTRUSTED_RELAY_ORIGINS */
  maxOrigins?: number
  /** injected clock for tests @default Date.now */
  now?: () => number
}

class TokenBucket {
  private tokens: number
  private at: number

  constructor (private readonly ratePerMs: number, private readonly burst: number, now: number) {
    this.tokens = burst
    this.at = now
  }

  take (now: number): boolean {
    this.tokens = Math.min(this.burst, this.tokens + (now - this.at) * this.ratePerMs)
    this.at = now
    if (this.tokens < 1) return false
    this.tokens -= 1
    return true
  }

  /** Puts back a token taken when a second check then said no. */
  refund (): void {
    this.tokens = Math.min(this.burst, this.tokens + 1)
  }
}

/** Token buckets for forwarding untrusted origins' records (see the constants above). */
export class RelayBudget {
  private readonly rate: number
  private readonly burst: number
  private readonly maxOrigins: number
  private readonly now: () => number
  private readonly total: TokenBucket
  private readonly origins = new Map<string, TokenBucket>()

  constructor (init: RelayBudgetInit = {}) {
    this.rate = (init.ratePerSecond ?? UNTRUSTED_RELAY_RATE_PER_S) / 1000
    this.burst = init.burst ?? UNTRUSTED_RELAY_BURST
    this.maxOrigins = init.maxOrigins ?? MAX_UNTRUSTED_RELAY_ORIGINS
    this.now = init.now ?? Date.now
    this.total = new TokenBucket((init.totalRatePerSecond ?? UNTRUSTED_RELAY_TOTAL_RATE_PER_S) / 1000, init.totalBurst ?? UNTRUSTED_RELAY_TOTAL_BURST, this.now())
  }

  /** Whether one more record of this untrusted origin may be forwarded now (takes a token if so). */
  take (origin: string): boolean {
    const now = this.now()
    let bucket = this.origins.get(origin)
    if (bucket === undefined) {
      if (this.origins.size >= this.maxOrigins) {
        const oldest = this.origins.keys().next().value
        if (oldest !== undefined) this.origins.delete(oldest)
      }
      bucket = new TokenBucket(this.rate, this.burst, now)
    } else {
      this.origins.delete(origin)
    }
    // re-inserted: the map's order is least recently seen first
    this.origins.set(origin, bucket)
    if (!bucket.take(now)) return false
    if (this.total.take(now)) return true
    bucket.refund()
    return false
  }

  /** Whether every one of these records (a frame's: one origin each) may be forwarded now; takes their tokens only if so. */
  takeAll (origins: readonly string[]): boolean {
    for (const [i, origin] of origins.entries()) {
      if (this.take(origin)) continue
      for (const taken of origins.slice(0, i)) {
        this.origins.get(taken)?.refund()
        this.total.refund()
      }
      return false
    }
    return true
  }
}
