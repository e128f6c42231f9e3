import { describe, expect, it } from 'vitest'
import { KeyedBuckets } from '../../src/hooks/rate-limit.js'

describe('hooks rate limit: token buckets', () => {
  it('lets a burst through, then the sustained rate, and says when to retry', () => {
    let now = 0
    const buckets = new KeyedBuckets({ perSecond: 2, burst: 3 }, 10, () => now)
    expect([buckets.take('a'), buckets.take('a'), buckets.take('a')]).toEqual([0, 0, 0])
    expect(buckets.take('a')).toBe(1)
    // another key has its own bucket
    expect(buckets.take('b')).toBe(0)
    now += 500
    expect(buckets.take('a')).toBe(0)
    expect(buckets.take('a')).toBe(1)
    now += 10_000
    // refilled to the burst, not beyond
    expect([buckets.take('a'), buckets.take('a'), buckets.take('a'), buckets.take('a')]).toEqual([0, 0, 0, 1])
  })

  it('a slow rate asks for a longer wait', () => {
    const buckets = new KeyedBuckets({ perSecond: 0.1, burst: 1 }, 10, () => 0)
    expect(buckets.take('a')).toBe(0)
    expect(buckets.take('a')).toBe(10)
  })

  it('keeps at most maxKeys buckets, forgetting the least recently used', () => {
    const buckets = new KeyedBuckets({ perSecond: 0.001, burst: 1 }, 2, () => 0)
    expect(buckets.take('a')).toBe(0)
    expect(buckets.take('b')).toBe(0)
    expect(buckets.take('a')).toBeGreaterThan(0)
    // c pushes out b (a was used more recently); b starts again full
    expect(buckets.take('c')).toBe(0)
    expect(buckets.take('a')).toBeGreaterThan(0)
    expect(buckets.take('b')).toBe(0)
  })
})
