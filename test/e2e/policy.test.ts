import { Writable } from 'node:stream'
import { pino } from 'pino'
import { describe, expect, it } from 'vitest'
import { BUILT, runCli } from '../cli/cli-helpers.js'
import { allEvents, artifactPublished, pipelineRunFinished, publishAll, startNodes, waitFor } from '../helpers/nodes.js'
import type { E2eNode } from '../helpers/nodes.js'
import type { NodeInfo } from '../../src/api/types.js'

const A_SOURCE = 'https://ci.community-a.example/jenkins'
/** a source A signs for that B's trust entry for A does not cover */
const OTHER_SOURCE = 'https://builds.community-a.example/tekton'
const REFUSED = 30

interface Refusals { sequences: number, reasons: Record<string, number>, originCount: number, origins: Array<{ origin: string, name?: string, reasons: Record<string, number>, classes: string[], lastSource?: string }> }
interface PeerStat { peerId: string, name?: string, received: number, stored: number, refused: number, rejected: number, gossipScore?: number }
type Info = NodeInfo & { refusals: Refusals, peerStats: PeerStat[], sync: { gaps: number, rejected: number, refused: number, duplicates: number } }

async function nodeInfo (node: E2eNode): Promise<Info> {
  const { status, body } = await node.api().request<Info>('GET', '/v1/node')
  expect(status).toBe(200)
  return body
}

function capture (lines: Array<Record<string, unknown>>): pino.Logger {
  return pino({ level: 'info' }, new Writable({ write (chunk, _enc, done) { lines.push(JSON.parse(String(chunk)) as Record<string, unknown>); done() } }))
}

/** A and B; B trusts A for A_SOURCE only and wants A's artifacts. */
async function pair (logB?: pino.Logger): Promise<[E2eNode, E2eNode]> {
  return await startNodes(2, {
    names: ['a', 'b'],
    configure: (config, { name, peerIds }) => {
      if (name === 'b') {
        config.trust.communities = [{ peerId: peerIds[0] as string, name: 'community-a', sources: [A_SOURCE] }]
        config.subscriptions = [{ classes: ['artifact.*'] }]
      }
    },
    ...(logB === undefined ? {} : { log: (name: string) => name === 'b' ? logB : undefined }),
    meshClasses: ['artifact.published']
  }) as [E2eNode, E2eNode]
}

/** A publishes REFUSED artifacts from OTHER_SOURCE; B refuses each by policy, by gossip. */
async function refuseThirty (a: E2eNode, b: E2eNode): Promise<void> {
  await waitFor(() => a.node.p2p.subscribers('artifact.published').includes(b.peerId), { message: 'A to learn B wants artifacts' })
  await publishAll(a.node, Array.from({ length: REFUSED }, () => artifactPublished({ source: `${OTHER_SOURCE}/release` })))
  await waitFor(async () => (await nodeInfo(b)).counters['received.gossip.refused'] === REFUSED, { message: 'B to refuse all 30 by gossip' })
}

describe('policy is not misbehaviour', () => {
  it('keeps A\'s gossip to B flowing after B refused 30 of A\'s records by policy, and counts them as known, not missing', async () => {
    const lines: Array<Record<string, unknown>> = []
    const [a, b] = await pair(capture(lines))
    await refuseThirty(a, b)

    // A's next valid records reach B by gossip, not by sync
    const valid = await publishAll(a.node, Array.from({ length: 5 }, () => artifactPublished({ source: `${A_SOURCE}/release` })))
    await waitFor(async () => (await allEvents(b.node)).length === 5, { message: 'B to store the 5 valid records' })
    let info = await nodeInfo(b)
    expect(info.counters['received.gossip.stored']).toBe(5)
    expect(info.counters['received.sync.stored'] ?? 0).toBe(0)
    expect(info.counters['gossip.received.ignore:CDG_UNTRUSTED_SIGNER']).toBe(REFUSED)
    expect(Object.keys(info.counters).filter(k => k.startsWith('gossip.received.reject'))).toEqual([])
    expect(b.node.p2p.libp2p.services.pubsub.score.score(a.peerId)).toBeGreaterThanOrEqual(0)
    expect(valid.map(r => r.sequence)).toEqual([31, 32, 33, 34, 35])

    // the refused sequences are known, not gaps: neither a gap request nor a sync round asks for them
    expect(await b.node.sync.requestGap(a.peerId, 'artifact.published', 1, REFUSED)).toBe(0)
    await b.node.sync.syncNow()
    info = await nodeInfo(b)
    expect(info.sync.gaps).toBe(0)
    expect(info.sync).toMatchObject({ rejected: 0, refused: 0 })
    expect(info.counters['received.sync.refused'] ?? 0).toBe(0)

    // shown per origin and reason, and per peer
    expect(info.refusals).toMatchObject({ sequences: REFUSED, reasons: { 'source-not-allowed': REFUSED }, originCount: 1 })
    expect(info.refusals.origins).toEqual([expect.objectContaining({
      origin: a.peerId, name: 'community-a', reasons: { 'source-not-allowed': REFUSED }, classes: ['artifact.published'], lastSource: `${OTHER_SOURCE}/release`
    })])
    const fromA = info.peerStats.find(p => p.peerId === a.peerId)
    expect(fromA).toMatchObject({ name: 'community-a', received: REFUSED + 5, stored: 5, refused: REFUSED, rejected: 0 })
    expect(fromA?.gossipScore).toBeGreaterThanOrEqual(0)

    // one warn line for the 30 refusals (rate-limited per origin and reason), with the trust change to make
    const refusedLines = lines.filter(l => typeof l.msg === 'string' && l.msg.startsWith('record refused by this node\'s trust policy'))
    expect(refusedLines).toHaveLength(1)
    expect(refusedLines[0]).toMatchObject({
      level: 40,
      component: 'receive',
      origin: a.peerId,
      name: 'community-a',
      reason: 'source-not-allowed',
      eventClass: 'artifact.published',
      hint: `add source ${OTHER_SOURCE}/release to trust entry community-a: cdgossip trust add --peer-id ${a.peerId} --name community-a --source ${A_SOURCE} --source ${OTHER_SOURCE}/release`
    })

    // `status` shows them apart from gaps, per origin and reason, and per peer
    if (BUILT) {
      const status = await runCli(['status', '--api-url', b.node.apiUrl, '--token', b.token])
      expect(status.code, status.stderr).toBe(0)
      expect(status.stdout).toMatch(/sync gaps\s+0\n/)
      expect(status.stdout).toMatch(/refused by policy\s+30 \(source-not-allowed 30; known, not gaps\)/)
      expect(status.stdout).toMatch(new RegExp(`community-a\\s+${a.peerId}\\s+source-not-allowed 30\\s+artifact.published\\s+${OTHER_SOURCE}/release`))
      expect(status.stdout).toMatch(new RegExp(`community-a\\s+${a.peerId}\\s+35\\s+5\\s+0\\s+0\\s+30\\s`))
    }

    // remembered across a restart: still known, still no gap, nothing fetched again
    await b.restart()
    await waitFor(() => b.node.p2p.peers().some(p => p.peerId === a.peerId), { message: 'B to reconnect to A' })
    await b.node.sync.syncNow()
    info = await nodeInfo(b)
    expect(info.refusals.sequences).toBe(REFUSED)
    expect(info.sync.gaps).toBe(0)
    expect(info.counters['received.sync.refused'] ?? 0).toBe(0)
    expect(info.counters['received.sync.duplicate'] ?? 0).toBe(0)
  })

  it('fetches the refused history by sync, without a restart, once B widens its trust entry for A', async () => {
    const [a, b] = await pair()
    await refuseThirty(a, b)
    expect((await nodeInfo(b)).refusals.sequences).toBe(REFUSED)

    const { status } = await b.api().request('POST', '/v1/trust', { json: { peerId: a.peerId, name: 'community-a', sources: [A_SOURCE, OTHER_SOURCE] } })
    expect(status).toBe(201)
    await waitFor(async () => (await allEvents(b.node)).length === REFUSED, { message: 'B to fetch the 30 records it had refused' })
    const info = await nodeInfo(b)
    expect(info.counters['received.sync.stored']).toBe(REFUSED)
    expect(info.refusals.sequences).toBe(0)
    expect(info.sync.gaps).toBe(0)
  })
})

describe('a trust mode change', () => {
  it('brings back what the old mode refused, without a restart', async () => {
    const [a, b] = await startNodes(2, {
      names: ['a', 'b'],
      configure: (config, { name }) => {
        // no entry for A; a subscription that keeps untrusted events once the mode lets them in
        if (name === 'b') config.subscriptions = [{ classes: ['artifact.*'], includeUntrusted: true }]
      },
      meshClasses: ['artifact.published']
    }) as [E2eNode, E2eNode]
    await waitFor(() => a.node.p2p.subscribers('artifact.published').includes(b.peerId), { message: 'A to learn B wants artifacts' })
    await publishAll(a.node, Array.from({ length: 3 }, () => artifactPublished({ source: `${A_SOURCE}/release` })))
    await waitFor(async () => (await nodeInfo(b)).refusals.reasons['unknown-signer'] === 3, { message: 'B to refuse A\'s 3 records' })

    b.node.setTrustMode('open')
    await waitFor(async () => (await allEvents(b.node)).length === 3, { message: 'B to fetch the 3 records under the open mode' })
    expect((await allEvents(b.node)).every(s => !s.trusted)).toBe(true)
    expect((await nodeInfo(b)).refusals.sequences).toBe(0)
  })
})

describe('a new subscription', () => {
  it('gets its history from connected peers at once, not at the next periodic sync round', async () => {
    const [a, b] = await startNodes(2, {
      names: ['a', 'b'],
      configure: (config, { name, peerIds }) => {
        // E2E nodes sync every hour: only the new subscription can bring the history in time
        if (name === 'b') config.trust.communities = [{ peerId: peerIds[0] as string, name: 'community-a', sources: [A_SOURCE] }]
      }
    }) as [E2eNode, E2eNode]
    await b.node.sync.syncNow()
    const published = await publishAll(a.node, Array.from({ length: 10 }, () => pipelineRunFinished({ source: `${A_SOURCE}/build` })))
    // a burst of ten is paced (FrameSender): it has left A, to no one, before B subscribes
    await waitFor(async () => (await nodeInfo(a)).counters['gossip.published'] === published.length, { message: 'A to gossip the 10 runs' })

    const { status } = await b.api().request('POST', '/v1/subscriptions', { json: { classes: ['pipelinerun.*'], start: { kind: 'beginning' } } })
    expect(status).toBe(201)
    await waitFor(async () => (await allEvents(b.node)).length === published.length, { message: 'B to fetch the 10 earlier runs' })
    expect((await nodeInfo(b)).counters['received.sync.stored']).toBe(10)
  })
})
