import { Writable } from 'node:stream'
import { pino } from 'pino'
import { describe, expect, it } from 'vitest'
import { LogLimiter } from '../../src/pipeline/log-limiter.js'
import { ReceiveMonitor, trustHint } from '../../src/pipeline/receive-monitor.js'
import { RelayBudget } from '../../src/pipeline/relay-budget.js'
import type { SignedEvent } from '../../src/events/types.js'
import type { TrustEntry } from '../../src/trust/types.js'

const PEER = '12D3KooWPeerPeerPeerPeerPeerPeerPeerPeerPeerPeerPeer'
const ORIGIN = '12D3KooWOriginOriginOriginOriginOriginOriginOrigin'

function capture (): { log: pino.Logger, lines: Array<Record<string, unknown>> } {
  const lines: Array<Record<string, unknown>> = []
  const log = pino({ level: 'info' }, new Writable({ write (chunk, _enc, done) { lines.push(JSON.parse(String(chunk)) as Record<string, unknown>); done() } }))
  return { log, lines }
}

describe('LogLimiter', () => {
  it('lets the first line of a key through, then one per interval with the count held back', () => {
    let now = 0
    const limiter = new LogLimiter({ intervalMs: 60_000, now: () => now })
    expect(limiter.take('a')).toEqual({ log: true, suppressed: 0 })
    expect(limiter.take('a')).toEqual({ log: false })
    expect(limiter.take('b')).toEqual({ log: true, suppressed: 0 })
    now = 59_999
    expect(limiter.take('a')).toEqual({ log: false })
    now = 60_000
    expect(limiter.take('a')).toEqual({ log: true, suppressed: 2 })
    expect(limiter.take('a')).toEqual({ log: false })
  })

  it('remembers a bounded number of keys', () => {
    const limiter = new LogLimiter({ maxKeys: 2, now: () => 0 })
    limiter.take('a')
    limiter.take('b')
    limiter.take('c')
    // `a` was forgotten: it logs again at once
    expect(limiter.take('a')).toEqual({ log: true, suppressed: 0 })
    expect(limiter.take('c')).toEqual({ log: false })
  })
})

describe('RelayBudget', () => {
  it('bounds what one untrusted origin, and all of them together, may have forwarded', () => {
    let now = 0
    const budget = new RelayBudget({ ratePerSecond: 1, burst: 3, totalRatePerSecond: 10, totalBurst: 5, now: () => now })
    expect([1, 2, 3, 4].map(() => budget.take('o1'))).toEqual([true, true, true, false])
    // fresh keys buy nothing once the shared budget is spent
    expect([1, 2, 3].map(() => budget.take('o2'))).toEqual([true, true, false])
    now = 1_000
    expect(budget.take('o1')).toBe(true)
    expect(budget.take('o1')).toBe(false)
  })

  it('takes a frame\'s records all or none, putting back what it took when one is over', () => {
    const budget = new RelayBudget({ ratePerSecond: 1, burst: 3, totalRatePerSecond: 10, totalBurst: 5, now: () => 0 })
    expect(budget.takeAll(['o1', 'o1', 'o1', 'o1'])).toBe(false)
    // nothing was spent by the refused frame
    expect(budget.takeAll(['o1', 'o1', 'o1'])).toBe(true)
    expect(budget.takeAll(['o2', 'o2', 'o3'])).toBe(false)
    expect(budget.takeAll(['o2', 'o3'])).toBe(true)
    expect(budget.take('o3')).toBe(false)
  })
})

describe('ReceiveMonitor', () => {
  const entry: TrustEntry = { peerId: ORIGIN, name: 'onap', sources: ['https://jenkins.onap.org'], classes: ['*'] }

  it('counts per path and per peer, and warns once per peer and code about rejected records', () => {
    const { log, lines } = capture()
    const monitor = new ReceiveMonitor({ log, trustEntry: () => entry })
    monitor.observe({ via: 'gossip', outcome: 'stored', eventClass: 'artifact.published', origin: ORIGIN, sequence: 1, from: PEER })
    monitor.observe({ via: 'sync', outcome: 'stored', eventClass: 'artifact.published', origin: ORIGIN, sequence: 2, from: PEER })
    for (let i = 0; i < 3; i++) monitor.observe({ via: 'gossip', outcome: 'refused', eventClass: 'artifact.published', reason: 'CDG_BAD_SIGNATURE', from: PEER })
    monitor.observe({ via: 'gossip', outcome: 'refused', eventClass: 'artifact.published', reason: 'CDG_INVALID_EVENT', origin: ORIGIN, from: PEER })
    // this node's own failure: not the peer's record being rejected
    monitor.observe({ via: 'gossip', outcome: 'refused', eventClass: 'artifact.published', reason: 'CDG_STORE', origin: ORIGIN, from: PEER })

    expect(monitor.counters()).toEqual({ 'received.gossip.stored': 1, 'received.sync.stored': 1, 'received.gossip.rejected': 4, 'received.gossip.failed': 1 })
    expect(monitor.peerFigures()).toEqual([expect.objectContaining({
      peerId: PEER, received: 7, stored: 2, rejected: 4, refused: 0, lastReject: expect.objectContaining({ code: 'CDG_INVALID_EVENT', origin: ORIGIN, eventClass: 'artifact.published' })
    })])
    expect(lines.map(l => [l.level, l.code, l.peer, l.suppressed])).toEqual([
      [40, 'CDG_BAD_SIGNATURE', PEER, 0],
      [40, 'CDG_INVALID_EVENT', PEER, 0]
    ])
    expect(lines[1]).toMatchObject({ origin: ORIGIN, eventClass: 'artifact.published', via: 'gossip' })
  })

  it('warns once per origin and reason about policy refusals, with the trust change that would accept them', () => {
    const { log, lines } = capture()
    const monitor = new ReceiveMonitor({ log, trustEntry: () => entry })
    for (let seq = 1; seq <= 5; seq++) {
      monitor.refusedSource(ORIGIN, 'source-not-allowed', 'https://nexus3.onap.org')
      monitor.observe({ via: 'gossip', outcome: 'policy', eventClass: 'artifact.published', policy: 'source-not-allowed', origin: ORIGIN, sequence: seq, from: PEER })
    }
    expect(monitor.counters()).toEqual({ 'received.gossip.refused': 5 })
    expect(monitor.peerFigures()[0]).toMatchObject({ refused: 5, rejected: 0 })
    expect(lines).toHaveLength(1)
    expect(lines[0]).toMatchObject({
      level: 40, origin: ORIGIN, name: 'onap', reason: 'source-not-allowed', source: 'https://nexus3.onap.org', peer: PEER,
      hint: `add source https://nexus3.onap.org to trust entry onap: cdgossip trust add --peer-id ${ORIGIN} --name onap --source https://jenkins.onap.org --source https://nexus3.onap.org`
    })
  })

  it('warns about relay budgets and stale sync gaps, rate-limited', () => {
    const { log, lines } = capture()
    const monitor = new ReceiveMonitor({ log, trustEntry: () => entry })
    const event = { origin: ORIGIN, eventClass: 'artifact.published' } as unknown as SignedEvent
    monitor.relayLimited(event)
    monitor.relayLimited(event)
    monitor.staleGap(ORIGIN, 'artifact.published', 12, 3)
    monitor.staleGap(ORIGIN, 'artifact.published', 12, 4)
    expect(lines.map(l => l.msg)).toEqual([
      expect.stringMatching(/^relay budget of an untrusted origin exhausted/),
      `sync gap open for 3 rounds: 12 sequences of onap's artifact.published missing, and no connected peer supplied them`
    ])
    expect(monitor.counters()).toEqual({ 'relay.untrusted.limited': 2 })
  })

  it('hints for every refusal reason', () => {
    expect(trustHint(ORIGIN, undefined, 'unknown-signer', 'https://ci.example.org/x', 'build.finished'))
      .toBe(`add a trust entry: cdgossip trust add --peer-id ${ORIGIN} --name <name> --source https://ci.example.org/x`)
    expect(trustHint(ORIGIN, { ...entry, classes: ['artifact.*'] }, 'class-not-allowed', 'https://jenkins.onap.org', 'build.finished'))
      .toBe(`add class build.finished to trust entry onap: cdgossip trust add --peer-id ${ORIGIN} --name onap --source https://jenkins.onap.org --class 'artifact.*' --class build.finished`)
  })
})
