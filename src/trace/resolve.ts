import { refText } from './refs.js'
import type { Resolution, ResolutionRefusal, TraceRef } from '../contracts/trace.js'

/**
 * `?resolve=true`: a graph's unresolved references are fetched from peers, then the graph is
 * built again, which may reveal new unresolved references (the build upstream of a fetched test
 * run); bounded in references, rounds and time, because the request waits for it.
 */

/** References asked for in one resolution, all rounds together (the fetch protocol's request bound). */
export const RESOLVE_MAX_REFS = 64
/** Rounds of fetching and rebuilding: a link, what that links to, and one step more. */
export const RESOLVE_MAX_ROUNDS = 3
/** Time one resolution may take before the graph is answered as it stands. */
export const RESOLVE_TIMEOUT_MS = 3_000

/** Asks peers for records matching `refs` and keeps the acceptable ones as fetched-for-trace. */
export type TraceFetcher = (refs: readonly TraceRef[], options: { signal: AbortSignal }) => Promise<{
  stored: number
  peers: string[]
  refused: ResolutionRefusal[]
}>

export interface ResolveBounds {
  /** @default RESOLVE_MAX_REFS */
  maxRefs?: number
  /** @default RESOLVE_MAX_ROUNDS */
  maxRounds?: number
  /** @default RESOLVE_TIMEOUT_MS */
  timeoutMs?: number
}

/** Most refused records listed in one answer; the count of stored ones is what matters. */
const MAX_REFUSALS_SHOWN = 32

/**
 * Builds, fetches what the build left unresolved, and builds again, until nothing new arrives or
 * a bound is reached. `refsOf` lists what a build left unresolved; `first` is asked for in the
 * first round as well (a chain's or an artifact's other events, which no node of the graph names).
 */
export async function resolveWith<G> (
  build: () => Promise<G>,
  refsOf: (graph: G) => TraceRef[],
  first: readonly TraceRef[],
  fetch: TraceFetcher,
  bounds: ResolveBounds = {}
): Promise<{ graph: G, resolution: Resolution }> {
  const maxRefs = bounds.maxRefs ?? RESOLVE_MAX_REFS
  const maxRounds = bounds.maxRounds ?? RESOLVE_MAX_ROUNDS
  const signal = AbortSignal.timeout(bounds.timeoutMs ?? RESOLVE_TIMEOUT_MS)
  const asked = new Set<string>()
  const peers = new Set<string>()
  const refused: ResolutionRefusal[] = []
  let fetched = 0
  let rounds = 0
  let truncated = false
  let graph = await build()
  for (;;) {
    const listed = [...(rounds === 0 ? first : []), ...refsOf(graph)]
    const fresh = [...new Map(listed.map(ref => [refText(ref), ref])).values()].filter(ref => !asked.has(refText(ref)))
    if (fresh.length === 0) break
    if (rounds >= maxRounds || asked.size >= maxRefs || signal.aborted) {
      truncated = true
      break
    }
    const ask = fresh.slice(0, maxRefs - asked.size)
    if (ask.length < fresh.length) truncated = true
    for (const ref of ask) asked.add(refText(ref))
    rounds++
    const report = await fetch(ask, { signal })
    fetched += report.stored
    for (const peer of report.peers) peers.add(peer)
    refused.push(...report.refused.slice(0, MAX_REFUSALS_SHOWN - refused.length))
    if (report.stored === 0) break
    graph = await build()
  }
  const unresolved = refsOf(graph)
  return { graph, resolution: { fetched, peers: [...peers], rounds, unresolved, refused, truncated: truncated || signal.aborted } }
}
