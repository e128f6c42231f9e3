import { artifactView } from './artifact.js'
import { chainGraph, traceFrom } from './graph.js'
import type { TraceLookup } from './graph.js'
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
  /** the trust name of an origin peer ID, when it is trusted by name */
  communityOf: (origin: string) => string | undefined
}

/** Traceability over what this node holds: chains, the graph around an event, one artifact across communities. */
export class TraceService {
  private readonly lookup: TraceLookup

  constructor (components: TraceServiceComponents) {
    const { store, communityOf } = components
    this.lookup = {
      get: async digest => await store.get(digest),
      getBySourceAndId: async (source, id) => await store.getBySourceAndId(source, id),
      holders: async (key, limit) => await store.traceHolders(key, limit),
      referrers: async (key, limit) => await store.traceReferrers(key, limit),
      chainDigests: async (chainId, limit) => await store.chainDigests(chainId, limit),
      communityOf
    }
  }

  async chain (chainId: string): Promise<TraceGraph> {
    return await chainGraph(this.lookup, chainId)
  }

  /** undefined when the event is not held */
  async trace (digest: string, options: TraceOptions = {}): Promise<TraceGraph | undefined> {
    return await traceFrom(this.lookup, digest, options)
  }

  async artifact (purl: string): Promise<ArtifactView> {
    return await artifactView(this.lookup, purl)
  }
}
