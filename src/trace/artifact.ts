import { InvalidRequestError } from '../errors.js'
import { MAX_PURL_LENGTH, MAX_TRACE_NODES } from '../contracts/trace.js'
import { GraphBuilder } from './graph.js'
import { entityKey } from '../events/trace-references.js'
import type { TraceLookup } from './graph.js'
import type { ArtifactDeployment, ArtifactTestRun, ArtifactView, CommunityConfidence, TraceNode } from '../contracts/trace.js'

/**
 * One artifact across communities, by Package URL: its lifecycle events, what is upstream of them
 * (builds, changes), and what ran against it downstream (test runs, deployments), with the
 * confidence summary a consumer decides on.
 */

/** Steps followed upstream of the artifact's events: build, then the change it was for, then what triggered that. */
const UPSTREAM_DEPTH = 3
/**
 * Steps followed downstream: a test run linked to the artifact, then the finished event linked to
 * that run's start, then a deployment that came after the tests.
 */
const DOWNSTREAM_DEPTH = 3

const PASSED = new Set(['success'])
const FAILED = new Set(['failure', 'error'])
const DEPLOYMENT_CLASSES = new Set(['service.deployed', 'service.upgraded', 'service.rolledback'])

function byTimeAsc (a: { time?: string }, b: { time?: string }): number {
  return Date.parse(a.time ?? '') - Date.parse(b.time ?? '') || 0
}

function byTimeDesc (a: { time?: string }, b: { time?: string }): number {
  return byTimeAsc(b, a)
}

export async function artifactView (lookup: TraceLookup, purl: string): Promise<ArtifactView> {
  return (await artifactTrace(lookup, purl)).view
}

/** The view, and the nodes its walks met that this node does not hold (what `?resolve=true` asks peers for). */
export async function artifactTrace (lookup: TraceLookup, purl: string): Promise<{ view: ArtifactView, unresolved: TraceNode[] }> {
  if (typeof purl !== 'string' || purl === '' || purl.length > MAX_PURL_LENGTH) {
    throw new InvalidRequestError(`a Package URL of 1 to ${MAX_PURL_LENGTH} characters`)
  }
  const b = new GraphBuilder(lookup)
  const key = entityKey('artifact', purl)
  const lifecycleDigests = (await lookup.holders(key, MAX_TRACE_NODES + 1)).slice(0, MAX_TRACE_NODES)
  for (const digest of lifecycleDigests) {
    const stored = await lookup.get(digest)
    if (stored !== undefined && stored.event.cdevent.subject.id === purl) b.addHeld(stored)
  }
  const lifecycle = [...b.held.keys()]
  const starts = lifecycle.length > 0 ? lifecycle : []
  // Without any artifact event held, the referrers of the purl are the way in.
  if (starts.length === 0) {
    for (const referrer of await lookup.referrers(key, MAX_TRACE_NODES + 1)) {
      const stored = await lookup.get(referrer.digest)
      if (stored !== undefined && b.addHeld(stored)) starts.push(referrer.digest)
    }
  }
  for (const digest of starts) await b.walk(digest, 'up', UPSTREAM_DEPTH)
  for (const digest of starts) await b.walk(digest, 'down', DOWNSTREAM_DEPTH)

  const nodes = [...b.held.values()].map(h => b.nodes.get(h.stored.event.digest) as TraceNode)
  const community = (n: TraceNode): string => n.community ?? n.origin ?? ''
  const ofClass = (prefix: string): TraceNode[] => nodes.filter(n => n.eventClass?.startsWith(prefix) === true).sort(byTimeAsc)
  const tests: ArtifactTestRun[] = nodes
    .filter(n => n.eventClass === 'testsuiterun.finished' || n.eventClass === 'testcaserun.finished')
    .map(n => {
      const content = b.held.get(n.id)?.stored.event.cdevent.subject.content ?? {}
      const named = (field: string): string | undefined => {
        const v = content[field] as Record<string, unknown> | undefined
        if (typeof v !== 'object' || v === null) return undefined
        return typeof v.name === 'string' ? v.name : typeof v.id === 'string' ? v.id : undefined
      }
      const run: ArtifactTestRun = {
        digest: n.id,
        community: community(n),
        origin: n.origin ?? '',
        suite: named('testSuite') ?? named('testCase') ?? (n.subject ?? ''),
        eventClass: n.eventClass ?? ''
      }
      if (n.outcome !== undefined) run.outcome = n.outcome
      const env = named('environment')
      if (env !== undefined) run.environment = env
      if (n.time !== undefined) run.time = n.time
      return run
    })
    .sort(byTimeDesc)
  const deployments: ArtifactDeployment[] = nodes
    .filter(n => DEPLOYMENT_CLASSES.has(n.eventClass ?? ''))
    .map(n => {
      const env = b.held.get(n.id)?.stored.event.cdevent.subject.content?.environment as { id?: unknown } | undefined
      const d: ArtifactDeployment = { digest: n.id, community: community(n), origin: n.origin ?? '', eventClass: n.eventClass ?? '', service: n.subject ?? '' }
      if (typeof env?.id === 'string') d.environment = env.id
      if (n.time !== undefined) d.time = n.time
      return d
    })
    .sort(byTimeDesc)
  const view: ArtifactView = {
    purl,
    lifecycle: lifecycle.map(d => b.nodes.get(d) as TraceNode).sort(byTimeAsc),
    builds: ofClass('build.'),
    changes: ofClass('change.'),
    tests,
    deployments,
    confidence: confidenceOf(tests),
    truncated: b.truncated || lifecycleDigests.length > MAX_TRACE_NODES
  }
  return { view, unresolved: [...b.nodes.values()].filter(n => !n.resolved) }
}

/** Per community, its runs with an outcome counted, newest verdict first. `tests` is newest first. */
export function confidenceOf (tests: ArtifactTestRun[]): CommunityConfidence[] {
  const out = new Map<string, CommunityConfidence>()
  for (const run of tests) {
    if (run.outcome === undefined) continue
    let c = out.get(run.community)
    if (c === undefined) {
      c = { community: run.community, passed: 0, failed: 0, latest: { outcome: run.outcome, suite: run.suite, digest: run.digest, ...(run.time === undefined ? {} : { time: run.time }) } }
      out.set(run.community, c)
    }
    if (PASSED.has(run.outcome)) c.passed++
    if (FAILED.has(run.outcome)) c.failed++
  }
  return [...out.values()].sort((x, y) => byTimeDesc(x.latest, y.latest))
}
