import { describe, expect, it } from 'vitest'
import { fastestPass } from '../../scripts/bench/floor.js'

describe('floor passes', () => {
  it('runs every pass in turn and keeps the fastest, so a pass slowed by other work does not raise the floor', async () => {
    const seen: number[] = []
    const costs = [31, 20.5, 47.5, 22, 20.9]
    const fastest = await fastestPass(costs.length, async pass => {
      seen.push(pass)
      return costs[pass] as number
    })
    expect(fastest).toBe(20.5)
    expect(seen).toEqual([0, 1, 2, 3, 4])
  })
})
