import { InvalidRequestError } from '../errors.js'
import { contextKey, parseKey, traceFactsOf } from '../events/trace-references.js'
import { DEFAULT_TRACE_DEPTH, MAX_TRACE_DEPTH, MAX_TRACE_NODES } from '../contracts/trace.js'
import type { Reference, Referrer, TraceFacts } from '../events/trace-references.js'
import type { TraceDirection, TraceEdge, TraceGraph, TraceNode, TraceOptions } from '../contracts/trace.js'
import type { StoredEvent } from '../events/records.js'

/**
 * Trace graphs built from what a node holds, through the store's trace indexes: bounded in depth
 * and in nodes, so one request costs at most a few hundred point and prefix reads whatever the
 * store holds. Pure apart from the lookups it is given (TraceLookup), which the tests fake.
 */

/** A held record, and whether it is held because `?resolve=true` fetched it (fetched-for-trace). */
export type TracedRecord = StoredEvent & { fetched?: boolean }

export interface TraceLookup {
  get(digest: string): Promise<TracedRecord | undefined>
  getBySourceAndId(source: string, id: string): Promise<TracedRecord | undefined>
  holders(key: string, limit: number): Promise<string[]>
  referrers(key: string, limit: number): Promise<Referrer[]>
  chainDigests(chainId: string, limit: number): Promise<string[]>
  /** the trust name of an origin, when it has one */
  communityOf(origin: string): string | undefined
}

interface Held { stored: TracedRecord, facts: TraceFacts }

/** One neighbour found from a held event: the node and the edge between them. */
interface Step { node: string, edge: TraceEdge }

/** Builds a graph, held events and unresolved references alike, within MAX_TRACE_NODES. */
class GraphBuilder {
  readonly nodes = new Map<string, TraceNode>()
  readonly held = new Map<string, Held>()
  private readonly edges = new Map<string, TraceEdge>()
  truncated = false

  constructor (private readonly lookup: TraceLookup) {}

  graph (root?: string): TraceGraph {
    const edges = [...this.edges.values()].filter(e => this.nodes.has(e.from) && this.nodes.has(e.to))
    return { ...(root === undefined ? {} : { root }), nodes: [...this.nodes.values()], edges, truncated: this.truncated }
  }

  /** Adds a held event; false when the node bound is reached. */
  addHeld (stored: TracedRecord): boolean {
    const digest = stored.event.digest
    if (this.nodes.has(digest)) return true
    if (!this.room()) return false
    this.held.set(digest, { stored, facts: traceFactsOf(stored.event.cdevent, stored.event.eventClass) })
    this.nodes.set(digest, nodeOf(stored, this.lookup.communityOf(stored.event.origin)))
    return true
  }

  addUnresolved (key: string, source: string | undefined): string | undefined {
    const parsed = parseKey(key)
    if (parsed === undefined) return undefined
    // readable ids: `unresolved:context:[<source> ]<id>`, `unresolved:<subject type>:<id>`
    const id = 'contextId' in parsed
      ? `unresolved:context:${source === undefined ? '' : source + ' '}${parsed.contextId}`
      : `unresolved:${parsed.subjectType}:${parsed.id}`
    if (this.nodes.has(id)) return id
    if (!this.room()) return undefined
    const node: TraceNode = { id, resolved: false }
    if ('contextId' in parsed) {
      node.contextId = parsed.contextId
      if (source !== undefined) node.source = source
    } else {
      node.entity = { type: parsed.subjectType, id: parsed.id }
    }
    this.nodes.set(id, node)
    return id
  }

  addEdge (edge: TraceEdge): void {
    this.edges.set(`${edge.from}\n${edge.to}\n${edge.kind}\n${edge.via}`, edge)
  }

  private room (): boolean {
    if (this.nodes.size < MAX_TRACE_NODES) return true
    this.truncated = true
    return false
  }

  private async load (digest: string): Promise<Held | undefined> {
    const known = this.held.get(digest)
    if (known !== undefined) return known
    // full: no read for a node that could not be added (a popular entity has thousands of referrers)
    if (!this.room()) return undefined
    const stored = await this.lookup.get(digest)
    if (stored === undefined || !this.addHeld(stored)) return undefined
    return this.held.get(digest)
  }

  /** The held events a reference names (checked against their own facts: index keys may be truncated). */
  private async resolve (ref: Reference): Promise<Held[]> {
    const parsed = parseKey(ref.target)
    if (parsed !== undefined && 'contextId' in parsed && ref.source !== undefined) {
      const stored = await this.lookup.getBySourceAndId(ref.source, parsed.contextId)
      if (stored === undefined) return []
      const held = this.addHeld(stored) ? this.held.get(stored.event.digest) : undefined
      return held === undefined ? [] : [held]
    }
    const out: Held[] = []
    for (const digest of await this.lookup.holders(ref.target, MAX_TRACE_NODES + 1)) {
      const held = await this.load(digest)
      if (held?.facts.identities.includes(ref.target) === true) out.push(held)
    }
    return out
  }

  /** The events upstream (or downstream) of one held event, one step away, with their edges. */
  async neighbours (digest: string, direction: 'up' | 'down'): Promise<Step[]> {
    const me = this.held.get(digest)
    if (me === undefined) return []
    const steps: Step[] = []
    const link = (other: string, kind: TraceEdge['kind'], via: string, otherIsUp: boolean): void => {
      const edge: TraceEdge = otherIsUp ? { from: other, to: digest, kind, via } : { from: digest, to: other, kind, via }
      steps.push({ node: other, edge })
    }
    // what this event references, on the side asked for
    for (const ref of me.facts.references) {
      if ((ref.role === 'up') !== (direction === 'up')) continue
      const found = await this.resolve(ref)
      if (found.length === 0) {
        const id = this.addUnresolved(ref.target, ref.source)
        if (id !== undefined) link(id, ref.kind, ref.via, ref.role === 'up')
      }
      for (const other of found) link(other.stored.event.digest, ref.kind, ref.via, ref.role === 'up')
    }
    // who references this event, on the side asked for
    const context = me.stored.event.cdevent.context
    for (const identity of me.facts.identities) {
      for (const referrer of await this.lookup.referrers(identity, MAX_TRACE_NODES + 1)) {
        const wanted = referrer.refs.filter(r => (r.role === 'up') === (direction === 'down') &&
          (r.source === undefined || identity !== contextKey(context.id) || r.source === context.source))
        if (wanted.length === 0) continue
        const other = await this.load(referrer.digest)
        if (other === undefined) continue
        if (!other.facts.references.some(r => r.target === identity)) continue
        for (const r of wanted) link(referrer.digest, r.kind, r.via, r.role === 'down')
      }
    }
    return steps
  }

  /** Breadth-first from `start`, one direction, `depth` steps. */
  async walk (start: string, direction: 'up' | 'down', depth: number): Promise<void> {
    let frontier = [start]
    const seen = new Set(frontier)
    for (let level = 0; level < depth && frontier.length > 0; level++) {
      const next: string[] = []
      for (const digest of frontier) {
        for (const step of await this.neighbours(digest, direction)) {
          this.addEdge(step.edge)
          if (!seen.has(step.node) && this.held.has(step.node)) {
            seen.add(step.node)
            next.push(step.node)
          }
        }
      }
      frontier = next
    }
  }
}

function nodeOf (stored: TracedRecord, community: string | undefined): TraceNode {
  const { event } = stored
  const { context, subject } = event.cdevent
  const node: TraceNode = {
    id: event.digest,
    resolved: true,
    digest: event.digest,
    type: context.type,
    eventClass: event.eventClass,
    source: context.source,
    contextId: context.id,
    subject: subject.id,
    origin: event.origin
  }
  if (typeof context.chainId === 'string') node.chainId = context.chainId
  if (community !== undefined) node.community = community
  if (stored.fetched === true) node.fetched = true
  if (typeof context.timestamp === 'string') node.time = context.timestamp
  const outcome = subject.content?.outcome
  if (typeof outcome === 'string') node.outcome = outcome
  return node
}

/** Checks an untrusted depth; undefined means DEFAULT_TRACE_DEPTH. */
export function traceDepth (depth: number | undefined): number {
  if (depth === undefined) return DEFAULT_TRACE_DEPTH
  if (!Number.isSafeInteger(depth) || depth < 0 || depth > MAX_TRACE_DEPTH) {
    throw new InvalidRequestError(`depth must be an integer from 0 to ${MAX_TRACE_DEPTH}`, { depth })
  }
  return depth
}

/** The bounded graph around one held event; undefined when the event is not held. */
export async function traceFrom (lookup: TraceLookup, digest: string, options: TraceOptions = {}): Promise<TraceGraph | undefined> {
  const depth = traceDepth(options.depth)
  const direction: TraceDirection = options.direction ?? 'both'
  if (direction !== 'up' && direction !== 'down' && direction !== 'both') throw new InvalidRequestError('direction must be up, down or both')
  const stored = await lookup.get(digest)
  if (stored === undefined) return undefined
  const b = new GraphBuilder(lookup)
  b.addHeld(stored)
  if (direction !== 'down') await b.walk(digest, 'up', depth)
  if (direction !== 'up') await b.walk(digest, 'down', depth)
  return b.graph(digest)
}

/**
 * Every held event of a chain (up to MAX_TRACE_NODES) and the edges between them, plus the links
 * from them to events this node does not hold (as unresolved nodes).
 */
export async function chainGraph (lookup: TraceLookup, chainId: string): Promise<TraceGraph> {
  const digests = await lookup.chainDigests(chainId, MAX_TRACE_NODES + 1)
  const b = new GraphBuilder(lookup)
  const members = new Set(digests.slice(0, MAX_TRACE_NODES))
  for (const digest of members) {
    const stored = await lookup.get(digest)
    if (stored !== undefined) b.addHeld(stored)
  }
  const kept: TraceEdge[] = []
  for (const digest of members) {
    for (const step of await b.neighbours(digest, 'up')) {
      const unresolvedLink = b.nodes.get(step.node)?.resolved === false && step.edge.kind !== 'entity'
      if ((members.has(step.edge.from) && members.has(step.edge.to)) || unresolvedLink) kept.push(step.edge)
    }
  }
  // neighbours() loaded events outside the chain to check them; the graph shows the chain only
  const linked = new Set(kept.flatMap(e => [e.from, e.to]))
  for (const [id, node] of b.nodes) {
    if (node.resolved ? !members.has(id) : !linked.has(id)) b.nodes.delete(id)
  }
  for (const edge of kept) b.addEdge(edge)
  // only the chain's own bound counts: events loaded to check references are not shown
  return { ...b.graph(), truncated: digests.length > MAX_TRACE_NODES }
}

export { GraphBuilder }
