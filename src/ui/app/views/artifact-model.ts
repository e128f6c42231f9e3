import type { ArtifactView, TraceNode } from '../../../contracts/trace.js'

/**
 * One artifact's timeline, pure: its lifecycle events, the builds and changes upstream, the test
 * runs and the deployments, as rows in time order whoever published them.
 */

export type TimelineKind = 'change' | 'build' | 'lifecycle' | 'test' | 'deployment'

export interface TimelineRow {
  digest: string
  kind: TimelineKind
  eventClass: string
  community: string
  /** the subject, the test suite or the service */
  what: string
  outcome?: string
  environment?: string
  time?: string
}

/** `nameOf` turns an origin's peer ID into what the page calls it. */
export function artifactTimeline (view: ArtifactView, nameOf: (peerId: string) => string): TimelineRow[] {
  const fromNode = (kind: TimelineKind) => (n: TraceNode): TimelineRow => ({
    digest: n.digest ?? n.id,
    kind,
    eventClass: n.eventClass ?? n.type ?? '',
    community: n.community ?? (n.origin === undefined ? '' : nameOf(n.origin)),
    what: n.subject ?? '',
    ...(n.outcome === undefined ? {} : { outcome: n.outcome }),
    ...(n.time === undefined ? {} : { time: n.time })
  })
  const rows: TimelineRow[] = [
    ...view.changes.map(fromNode('change')),
    ...view.builds.map(fromNode('build')),
    ...view.lifecycle.map(fromNode('lifecycle')),
    ...view.tests.map(t => ({
      digest: t.digest,
      kind: 'test' as const,
      eventClass: t.eventClass,
      community: communityOf(t, nameOf),
      what: t.suite,
      ...(t.outcome === undefined ? {} : { outcome: t.outcome }),
      ...(t.environment === undefined ? {} : { environment: t.environment }),
      ...(t.time === undefined ? {} : { time: t.time })
    })),
    ...view.deployments.map(d => ({
      digest: d.digest,
      kind: 'deployment' as const,
      eventClass: d.eventClass,
      community: communityOf(d, nameOf),
      what: d.service,
      ...(d.environment === undefined ? {} : { environment: d.environment }),
      ...(d.time === undefined ? {} : { time: d.time })
    }))
  ]
  // oldest first; rows without a time keep their place after the timed ones (a stable sort)
  return rows.sort((a, b) => {
    const x = timeOf(a)
    const y = timeOf(b)
    return x === y ? 0 : x < y ? -1 : 1
  })
}

/** The server names an untrusted origin by its peer ID; the page may know a shorter name. */
export function communityOf (run: { community: string, origin: string }, nameOf: (peerId: string) => string): string {
  return run.community === run.origin && run.origin !== '' ? nameOf(run.origin) : run.community
}

function timeOf (row: TimelineRow): number {
  const t = Date.parse(row.time ?? '')
  return Number.isNaN(t) ? Number.POSITIVE_INFINITY : t
}
