import { describe, expect, it } from 'vitest'
import { BoundedLabel, ClassLabels, NodeMetrics, methodLabel } from '../../src/metrics/index.js'
import type { MetricsSources, P2PSource } from '../../src/metrics/index.js'

const NOTHING_RUNNING: MetricsSources = {
  store: () => undefined,
  p2p: () => undefined,
  sync: () => undefined,
  delivery: () => undefined,
  info: () => undefined
}

/** Sample lines (`name{labels} value`) of one metric, in the order the registry writes them. */
async function lines (metrics: NodeMetrics, name: string): Promise<string[]> {
  const { body } = await metrics.scrape()
  return body.split('\n').filter(l => l.startsWith(`${name}{`) || l.startsWith(`${name} `))
}

describe('label bounds', () => {
  it('keeps the first admitted values and puts the rest under other', () => {
    const label = new BoundedLabel(2)
    expect(label.label('a', false)).toBe('other')
    expect(label.label('a', true)).toBe('a')
    expect(label.label('b', true)).toBe('b')
    expect(label.label('c', true)).toBe('other')
    expect(label.label('a', false)).toBe('a')
  })

  it('labels standard classes as they are, custom ones while under the cap, unknown when missing', () => {
    const classes = new ClassLabels(1)
    expect(classes.label('artifact.published', false)).toBe('artifact.published')
    expect(classes.label('x.tool-thing.done', false)).toBe('other')
    expect(classes.label('x.tool-thing.done', true)).toBe('x.tool-thing.done')
    expect(classes.label('x.tool-other.done', true)).toBe('other')
    expect(classes.label(undefined, true)).toBe('unknown')
  })

  it('keeps only the usual HTTP methods', () => {
    expect(methodLabel('GET')).toBe('GET')
    expect(methodLabel('PROPFIND')).toBe('other')
  })
})

describe('NodeMetrics', () => {
  it('counts policy refusals apart from rejections, by class, path and a bounded reason, and gauges the known refused sequences', async () => {
    const metrics = new NodeMetrics({ sources: { ...NOTHING_RUNNING, refusals: () => ({ reasons: { 'source-not-allowed': 30, 'unknown-signer': 2 } }) } }, { processMetrics: false })
    for (let i = 0; i < 3; i++) metrics.observeEvent({ via: 'gossip', outcome: 'policy', eventClass: 'artifact.published', policy: 'source-not-allowed' })
    metrics.observeEvent({ via: 'sync', outcome: 'policy', eventClass: 'artifact.published', policy: 'something-new' })
    expect(await lines(metrics, 'cdgossip_events_refused_total')).toEqual([
      'cdgossip_events_refused_total{class="artifact.published",via="gossip",reason="source-not-allowed"} 3',
      'cdgossip_events_refused_total{class="artifact.published",via="sync",reason="other"} 1'
    ])
    expect(await lines(metrics, 'cdgossip_events_rejected_total')).toEqual([])
    expect(await lines(metrics, 'cdgossip_sync_refused_sequences')).toEqual([
      'cdgossip_sync_refused_sequences{reason="source-not-allowed"} 30',
      'cdgossip_sync_refused_sequences{reason="unknown-signer"} 2'
    ])
  })

  it('admits custom classes only from stored events, so refusals cannot fill the cap', async () => {
    const metrics = new NodeMetrics({ sources: NOTHING_RUNNING }, { maxCustomClassLabels: 1, processMetrics: false })
    for (let i = 0; i < 50; i++) metrics.observeEvent({ via: 'gossip', outcome: 'refused', eventClass: `x.spam${i}-thing.done`, reason: 'CDG_UNTRUSTED_SIGNER' })
    metrics.observeEvent({ via: 'publish', outcome: 'stored', eventClass: 'x.mytool-build.done' })
    metrics.observeEvent({ via: 'publish', outcome: 'stored', eventClass: 'x.mytool-test.done' })
    metrics.observeEvent({ via: 'publish', outcome: 'stored', eventClass: 'pipelinerun.finished' })

    expect(await lines(metrics, 'cdgossip_events_rejected_total')).toEqual([
      'cdgossip_events_rejected_total{class="other",via="gossip",reason="CDG_UNTRUSTED_SIGNER"} 50'
    ])
    expect(await lines(metrics, 'cdgossip_events_published_total')).toEqual([
      'cdgossip_events_published_total{class="x.mytool-build.done"} 1',
      'cdgossip_events_published_total{class="other"} 1',
      'cdgossip_events_published_total{class="pipelinerun.finished"} 1'
    ])
  })

  it('counts delivery attempts and failures per subscription, past the cap under other', async () => {
    const metrics = new NodeMetrics({ sources: NOTHING_RUNNING }, { maxSubscriptionLabels: 1, processMetrics: false })
    const attempt = { digest: 'd', cursor: 'c', attempt: 1, redrive: false }
    metrics.observeDeliveryAttempt({ ...attempt, subscriptionId: 'first', result: 'retry' })
    metrics.observeDeliveryAttempt({ ...attempt, subscriptionId: 'first', result: 'delivered' })
    metrics.observeDeliveryAttempt({ ...attempt, subscriptionId: 'second', result: 'dead-letter' })
    metrics.observeDeliveryAttempt({ ...attempt, subscriptionId: 'third', result: 'dead-letter' })
    expect(await lines(metrics, 'cdgossip_delivery_attempts_total')).toEqual([
      'cdgossip_delivery_attempts_total{subscription="first",result="retry"} 1',
      'cdgossip_delivery_attempts_total{subscription="first",result="delivered"} 1',
      'cdgossip_delivery_attempts_total{subscription="other",result="dead-letter"} 2'
    ])
    expect(await lines(metrics, 'cdgossip_delivery_failures_total')).toEqual([
      'cdgossip_delivery_failures_total{subscription="first"} 1',
      'cdgossip_delivery_failures_total{subscription="other"} 2'
    ])
  })

  it('mirrors the p2p counters by validator result and reason, and survives a failing source', async () => {
    const p2p: P2PSource = {
      counters: () => ({ published: 3, received: { stored: 2, duplicate: 1, 'reject:CDG_BAD_SIGNATURE': 4, 'ignore:unexpected': 1 } }),
      peers: () => [{}, {}],
      topics: () => ['cdgossip/test/artifact.published', 'not-a-topic'],
      meshPeers: () => ['p1'],
      subscribers: () => ['p1', 'p2']
    }
    const metrics = new NodeMetrics({
      sources: {
        ...NOTHING_RUNNING,
        p2p: () => p2p,
        store: () => ({ stats: async () => { throw new Error('store closed mid-scrape') } })
      }
    }, { processMetrics: false })

    expect(await lines(metrics, 'cdgossip_gossip_messages_received_total')).toEqual([
      'cdgossip_gossip_messages_received_total{result="accept",reason="stored"} 2',
      'cdgossip_gossip_messages_received_total{result="ignore",reason="duplicate"} 1',
      'cdgossip_gossip_messages_received_total{result="reject",reason="CDG_BAD_SIGNATURE"} 4',
      'cdgossip_gossip_messages_received_total{result="ignore",reason="unexpected"} 1'
    ])
    expect(await lines(metrics, 'cdgossip_gossip_messages_published_total')).toEqual(['cdgossip_gossip_messages_published_total 3'])
    expect(await lines(metrics, 'cdgossip_peers')).toEqual(['cdgossip_peers 2'])
    expect(await lines(metrics, 'cdgossip_gossip_mesh_peers')).toEqual(['cdgossip_gossip_mesh_peers{class="artifact.published"} 1'])
    expect(await lines(metrics, 'cdgossip_gossip_topic_peers')).toEqual(['cdgossip_gossip_topic_peers{class="artifact.published"} 2'])
    // scraping twice does not double the mirrored totals
    expect(await lines(metrics, 'cdgossip_gossip_messages_published_total')).toEqual(['cdgossip_gossip_messages_published_total 3'])
    expect(await lines(metrics, 'cdgossip_store_events')).toEqual(['cdgossip_store_events 0'])
  })

  it('adds the process metrics only when asked', async () => {
    const without = new NodeMetrics({ sources: NOTHING_RUNNING }, { processMetrics: false })
    expect((await without.scrape()).body).not.toContain('process_cpu_seconds_total')
    const withProcess = new NodeMetrics({ sources: NOTHING_RUNNING })
    expect((await withProcess.scrape()).body).toContain('process_cpu_seconds_total')
    // a second node in the same process shares them without registering twice
    const another = new NodeMetrics({ sources: NOTHING_RUNNING })
    expect((await another.scrape()).body).toContain('process_cpu_seconds_total')
  })
})
