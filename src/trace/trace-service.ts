import { artifactTrace } from './artifact.js'
import { chainGraph, traceFrom } from './graph.js'
import { refsOfNodes } from './refs.js'
import { resolveWith } from './resolve.js'
import type { TraceLookup, TracedRecord } from './graph.js'
import type { ResolveBounds, TraceFetcher } from './resolve.js'
import type { ArtifactView, TraceGraph, TraceOptions } from '../contracts/trace.js'
import type { StoredEvent } from '../events/records.js'
import type { Referrer } from '../events/trace-references.js'

/** What the trace reads of the store (EventStore has it): point reads and the trace indexes. */
export interface TraceStore {
  get(digest: string): Promise<StoredEvent | undefined>
  getBySourceAndId(source: string, id: string): Promise<StoredEvent | undefined>
  traceHolders(key: string, limit: number): Promise<string[]>
  traceReferrers(key: string, limit: number): Promise<Referrer[]>
  chainDigests(chainId: string, limit: number): Promise<string[]>
}

export interface TraceServiceComponents {
  store: TraceStore
  /**
   * Where fetched-for-trace records are kept (apart from the store, so subscriptions, sync and
   * gossip never see them); the trace reads both, the store first.
   */
  fetched?: TraceStore
  /** asks peers for unresolved references (`?resolve=true`); without it resolving finds nothing */
  fetch?: TraceFetcher
  /** the trust name of an origin peer ID, when it is trusted by name */
  communityOf: (origin: string) => string | undefined
}

/** Traceability over what this node holds: chains, the graph around an event, one artifact across communities. */
export class TraceService {
  private readonly lookup: TraceLookup
  private readonly fetch: TraceFetcher
  private readonly bounds: ResolveBounds

  constructor (components: TraceServiceComponents, bounds: ResolveBounds = {}) {
    const { store, fetched, communityOf } = components
    this.lookup = fetched === undefined ? lookupOf(store, communityOf) : mergedLookup(store, fetched, communityOf)
    this.fetch = components.fetch ?? (async () => ({ stored: 0, peers: [], refused: [] }))
    this.bounds = bounds
  }

  async chain (chainId: string, options: { resolve?: boolean } = {}): Promise<TraceGraph> {
    const build = async (): Promise<TraceGraph> => await chainGraph(this.lookup, chainId)
    if (options.resolve !== true) return await build()
    const { graph, resolution } = await resolveWith(build, g => refsOfNodes(g.nodes), [{ kind: 'chain', id: chainId }], this.fetch, this.bounds)
    return { ...graph, resolution }
  }

  /** undefined when the event is not held */
  async trace (digest: string, options: TraceOptions & { resolve?: boolean } = {}): Promise<TraceGraph | undefined> {
    const { resolve, ...rest } = options
    const build = async (): Promise<TraceGraph | undefined> => await traceFrom(this.lookup, digest, rest)
    if (resolve !== true) return await build()
    const { graph, resolution } = await resolveWith(build, g => refsOfNodes(g?.nodes ?? []), [], this.fetch, this.bounds)
    return graph === undefined ? undefined : { ...graph, resolution }
  }

  async artifact (purl: string, options: { resolve?: boolean } = {}): Promise<ArtifactView> {
    const build = async (): ReturnType<typeof artifactTrace> => await artifactTrace(this.lookup, purl)
    if (options.resolve !== true) return (await build()).view
    // the artifact's events and every event that names it (builds, test runs, deployments)
    const first = [{ kind: 'entity' as const, type: 'artifact', id: purl, referrers: true as const }]
    const { graph, resolution } = await resolveWith(build, g => refsOfNodes(g.unresolved), first, this.fetch, this.bounds)
    return { ...graph.view, resolution }
  }
}

function lookupOf (store: TraceStore, communityOf: (origin: string) => string | undefined): TraceLookup {
  return {
    get: async digest => await store.get(digest),
    getBySourceAndId: async (source, id) => await store.getBySourceAndId(source, id),
    holders: async (key, limit) => await store.traceHolders(key, limit),
    referrers: async (key, limit) => await store.traceReferrers(key, limit),
    chainDigests: async (chainId, limit) => await store.chainDigests(chainId, limit),
    communityOf
  }
}

/** The store's answers, then the fetched records' (marked `fetched`), each digest once, within `limit`. */
function mergedLookup (store: TraceStore, fetched: TraceStore, communityOf: (origin: string) => string | undefined): TraceLookup {
  const marked = (stored: StoredEvent | undefined): TracedRecord | undefined => stored === undefined ? undefined : { ...stored, fetched: true }
  const union = <T>(a: T[], b: T[], key: (item: T) => string, limit: number): T[] => {
    const seen = new Set(a.map(key))
    return [...a, ...b.filter(item => !seen.has(key(item)))].slice(0, limit)
  }
  return {
    get: async digest => await store.get(digest) ?? marked(await fetched.get(digest)),
    getBySourceAndId: async (source, id) => await store.getBySourceAndId(source, id) ?? marked(await fetched.getBySourceAndId(source, id)),
    holders: async (key, limit) => union(await store.traceHolders(key, limit), await fetched.traceHolders(key, limit), d => d, limit),
    referrers: async (key, limit) => union(await store.traceReferrers(key, limit), await fetched.traceReferrers(key, limit), r => r.digest, limit),
    chainDigests: async (chainId, limit) => union(await store.chainDigests(chainId, limit), await fetched.chainDigests(chainId, limit), d => d, limit),
    communityOf
  }
}
