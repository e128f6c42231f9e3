import { describe, expect, it } from 'vitest'
import { CATCHUP_FLOOR, FEDERATION_FLOOR, cpuPerEventUs, describeRecipe, efficiencyOf, floorPerEventUs, type FloorCosts } from '../../scripts/bench/efficiency.js'
import { withTarget } from '../../scripts/bench/targets.js'
import type { Figure } from '../../scripts/bench/context.js'

/** The table: sign 13, verify 36, sha256 3, store 25 (batched), parse 3 (+ validate, here 2). */
const COSTS: FloorCosts = {
  signUs: 13, verifyUs: 36, sha256Us: 3, parseUs: 3, validateUs: 2, storeBatchUs: 25, storeSingleUs: 35, storeAppendUs: 60, entriesPerRecord: 17, recordBytes: 2048
}

describe('the per-event floor', () => {
  it('federation of three: 1 sign, 2 verifies, 3 hashes, 3 parses and validations, 3 stores and their compaction', () => {
    // 13 + 2×36 + 3×3 + 3×(3+2) + 6×25
    expect(floorPerEventUs(COSTS, FEDERATION_FLOOR)).toBe(259)
    expect(describeRecipe(FEDERATION_FLOOR)).toBe('1 × sign, 2 × verify, 3 × sha256, 3 × parse + validate, 3 × store (batched), 3 × compaction (= store)')
  })

  it('catch-up: the restarted node verifies, hashes, parses, validates and stores; no sign', () => {
    // 36 + 3 + 5 + 2×25
    expect(floorPerEventUs(COSTS, CATCHUP_FLOOR)).toBe(94)
    expect(describeRecipe(CATCHUP_FLOOR)).not.toContain('sign')
  })
})

describe('efficiencyOf', () => {
  it('divides the floor by the CPU per delivered event', () => {
    // 1,300 ms of CPU for 1,000 events = 1,300 µs per event; 259 / 1,300 = 19.9 %
    expect(efficiencyOf(259, 1300, 1000)).toEqual({ events: 1000, cpuMs: 1300, cpuPerEventUs: 1300, floorUs: 259, percent: 19.9 })
  })

  it('reaches 100 % when the processes spend exactly the floor', () => {
    expect(efficiencyOf(250, 250, 1000)?.percent).toBe(100)
  })

  it('gives the CPU per event on its own, for the baselines that have no floor', () => {
    expect(cpuPerEventUs(480, 97)).toBe(4948.5)
    expect(cpuPerEventUs(undefined, 97)).toBeUndefined()
  })

  it('has no figure when nothing was delivered or no CPU was read', () => {
    expect(efficiencyOf(259, 1300, 0)).toBeUndefined()
    expect(efficiencyOf(259, 0, 1000)).toBeUndefined()
    expect(efficiencyOf(259, Number.NaN, 1000)).toBeUndefined()
  })
})

describe('targets', () => {
  const figure = (id: string, cdgossip: number | undefined, baseline?: number): Figure => ({ id, label: id, unit: 'x', cdgossip, baseline, better: 'higher' })

  it('judges ratios against RabbitMQ and leaves them unjudged without it', () => {
    expect(withTarget(figure('federation.delivered', 4400, 8618))).toMatchObject({ target: '≥ 0.5× RabbitMQ', meets: true })
    expect(withTarget(figure('federation.delivered', 4000, 8618)).meets).toBe(false)
    expect(withTarget(figure('publish.single', 6000, 9300)).meets).toBe(false)
    const skipped = withTarget(figure('publish.single', 6000, undefined))
    expect(skipped.target).toBe('≥ 0.7× RabbitMQ')
    expect(skipped).not.toHaveProperty('meets')
  })

  it('judges absolute targets and leaves figures without one alone', () => {
    expect(withTarget(figure('catchup.rate', 15_000)).meets).toBe(true)
    expect(withTarget(figure('catchup.rate', 14_999)).meets).toBe(false)
    expect(withTarget(figure('memory.federation', 201)).meets).toBe(false)
    expect(withTarget(figure('federation.efficiency', 50)).meets).toBe(true)
    expect(withTarget(figure('publish.batch', 1))).toEqual(figure('publish.batch', 1))
  })
})
