import { describe, it, expect } from 'vitest'
import { MISSED_HEARTBEATS, SinkLease } from '../../src/node/sink-lease.js'

const ORDER = ['node-1', 'node-2', 'node-3']
const BEAT = 1000

function clock (): { now: () => number, advance: (ms: number) => void } {
  let t = 0
  return { now: () => t, advance: ms => { t += ms } }
}

describe('SinkLease', () => {
  it('waits to hear its siblings after start, then the first live node in manifest order takes it', () => {
    const c = clock()
    const first = new SinkLease(ORDER, 'node-1', BEAT, c.now)
    const second = new SinkLease(ORDER, 'node-2', BEAT, c.now)
    second.heard('node-1', { holding: false, leaving: false })
    expect(first.decide()).toBe(false)
    c.advance(MISSED_HEARTBEATS * BEAT)
    second.heard('node-1', { holding: false, leaving: false })
    expect(first.decide()).toBe(true)
    expect(second.decide()).toBe(false)
  })

  it('moves to the next live node after three missed heartbeats, and is not taken back when the first returns', () => {
    const c = clock()
    const second = new SinkLease(ORDER, 'node-2', BEAT, c.now)
    c.advance(MISSED_HEARTBEATS * BEAT)
    second.heard('node-1', { holding: true, leaving: false })
    expect(second.decide()).toBe(false)
    expect(second.view()).toMatchObject({ holding: false, holder: 'node-1', live: ['node-1'] })
    c.advance(MISSED_HEARTBEATS * BEAT + 1)
    expect(second.decide()).toBe(true)

    // node-1 restarts: it waits, hears node-2 holding, and stays standby
    const restarted = new SinkLease(ORDER, 'node-1', BEAT, c.now)
    second.heard('node-1', { holding: false, leaving: false })
    c.advance(MISSED_HEARTBEATS * BEAT)
    restarted.heard('node-2', { holding: true, leaving: false })
    expect(restarted.decide()).toBe(false)
    expect(second.decide()).toBe(true)
  })

  it('after a split brain heals, the node earlier in manifest order keeps the lease', () => {
    const c = clock()
    const second = new SinkLease(ORDER, 'node-2', BEAT, c.now)
    c.advance(MISSED_HEARTBEATS * BEAT)
    expect(second.decide()).toBe(true)
    second.heard('node-1', { holding: true, leaving: false })
    expect(second.decide()).toBe(false)
  })

  it('a sibling that says it is leaving is not live', () => {
    const c = clock()
    const second = new SinkLease(ORDER, 'node-2', BEAT, c.now)
    c.advance(MISSED_HEARTBEATS * BEAT)
    second.heard('node-1', { holding: true, leaving: false })
    expect(second.decide()).toBe(false)
    second.heard('node-1', { holding: false, leaving: true })
    expect(second.decide()).toBe(true)
  })
})
