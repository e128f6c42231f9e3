import type { Resolution, TraceEdge, TraceGraph, TraceNode } from '../../../contracts/trace.js'
import { communityColours } from './community-colour.js'

/**
 * A trace graph as the page draws it, pure: what each node and edge shows (label, colour, outcome,
 * what an unresolved node names) and the legend. The canvas and the plain tables below it both
 * read this, so the two always show the same graph.
 */

/** How a finished run ended, as the canvas marks it; `none` for events that carry no outcome. */
export type OutcomeKind = 'success' | 'failure' | 'error' | 'other' | 'none'

const OUTCOMES: Record<string, OutcomeKind> = {
  success: 'success', pass: 'success', passed: 'success',
  failure: 'failure', fail: 'failure', failed: 'failure',
  error: 'error', errored: 'error'
}

/** Characters of one line of a node's label: what fits its box (the tables below show the whole text). */
const LABEL_LINE = 28

export interface GraphNodeModel {
  id: string
  resolved: boolean
  /** the event class (resolved) or `unresolved` */
  title: string
  /** the community by trust name (its origin's short peer ID without one); absent for unresolved nodes */
  community?: string
  /** fill: the community's colour; grey for unresolved nodes */
  colour: string
  outcome: OutcomeKind
  /** the outcome as the event says it */
  outcomeText?: string
  /** what the node is about: the subject id, or what an unresolved link or field names */
  detail: string
  /** canvas label, a few short lines */
  label: string
  time?: string
  digest?: string
  /** the entity an unresolved node names, or the artifact a resolved artifact event is about */
  entity?: { type: string, id: string }
  /** held because "resolve from peers" fetched it: traceable here, never delivered to subscriptions */
  fetched: boolean
}

export interface GraphEdgeModel {
  /** unique within the graph, even for two edges between the same nodes */
  id: string
  from: string
  to: string
  kind: TraceEdge['kind']
  via: string
  label: string
  /** one end is unresolved: drawn dashed and grey like the node */
  unresolved: boolean
}

export interface LegendEntry { community: string, colour: string }

export interface GraphModel {
  nodes: GraphNodeModel[]
  edges: GraphEdgeModel[]
  /** communities in the graph, by name */
  legend: LegendEntry[]
  truncated: boolean
  /** what "resolve from peers" did, in words; absent when it was not asked for */
  resolution?: string
}

/**
 * What the canvas drew and where (`window.__cdgossipGraph`): model coordinates, and page
 * coordinates to click at. Browser tests compare it with the REST answer.
 */
export interface RenderedGraph {
  nodes: Array<{ id: string, resolved: boolean, x: number, y: number, clientX: number, clientY: number }>
  edges: Array<{ id: string, from: string, to: string }>
}

export const UNRESOLVED_COLOUR = '#d0d0d0'

export function outcomeKind (outcome: string | undefined): OutcomeKind {
  if (outcome === undefined) return 'none'
  return OUTCOMES[outcome.toLowerCase()] ?? 'other'
}

export function shorten (text: string, max: number): string {
  return text.length <= max ? text : `${text.slice(0, max - 1)}…`
}

/** What an unresolved node names, in words: an entity (`artifact pkg:…`) or a link's (source, id). */
export function unresolvedNames (node: TraceNode): string {
  if (node.entity !== undefined) return `${node.entity.type} ${node.entity.id}`
  const id = node.contextId ?? node.id.replace(/^unresolved:/, '')
  return node.source === undefined ? `event ${id}` : `event ${id} from ${node.source}`
}

/** `nameOf` turns an origin's peer ID into what the page calls it (its trust name, or a short ID). */
export function graphModel (graph: TraceGraph, nameOf: (peerId: string) => string): GraphModel {
  const communityOf = (n: TraceNode): string | undefined => n.community ?? (n.origin === undefined ? undefined : nameOf(n.origin))
  const colours = communityColours(graph.nodes.flatMap(n => n.resolved ? [communityOf(n)].filter(c => c !== undefined) : []))
  const nodes = graph.nodes.map(n => nodeModel(n, communityOf(n), colours))
  const resolved = new Set(nodes.filter(n => n.resolved).map(n => n.id))
  const seen = new Map<string, number>()
  const edges = graph.edges.map(e => {
    const base = `${e.from}->${e.to}:${e.kind}:${e.via}`
    const n = seen.get(base) ?? 0
    seen.set(base, n + 1)
    return {
      id: n === 0 ? base : `${base}#${n}`,
      from: e.from,
      to: e.to,
      kind: e.kind,
      via: e.via,
      label: `${e.kind}: ${e.via}`,
      unresolved: !resolved.has(e.from) || !resolved.has(e.to)
    }
  })
  return {
    nodes,
    edges,
    legend: [...colours].map(([community, colour]) => ({ community, colour })),
    truncated: graph.truncated,
    ...(graph.resolution === undefined ? {} : { resolution: resolutionText(graph.resolution) })
  }
}

function nodeModel (node: TraceNode, community: string | undefined, colours: Map<string, string>): GraphNodeModel {
  if (!node.resolved) {
    const detail = unresolvedNames(node)
    return {
      id: node.id,
      resolved: false,
      title: 'unresolved',
      colour: UNRESOLVED_COLOUR,
      outcome: 'none',
      detail,
      label: `unresolved\n${shorten(detail, LABEL_LINE)}`,
      fetched: false,
      ...(node.entity === undefined ? {} : { entity: node.entity })
    }
  }
  const title = node.eventClass ?? node.type ?? 'event'
  const detail = node.subject ?? node.contextId ?? node.id
  const lines = [title, community ?? '', shorten(detail, LABEL_LINE)]
  if (node.outcome !== undefined) lines.push(node.outcome)
  if (node.fetched === true) lines.push('(fetched from a peer)')
  return {
    id: node.id,
    resolved: true,
    title,
    ...(community === undefined ? {} : { community }),
    colour: (community === undefined ? undefined : colours.get(community)) ?? UNRESOLVED_COLOUR,
    outcome: outcomeKind(node.outcome),
    ...(node.outcome === undefined ? {} : { outcomeText: node.outcome }),
    detail,
    label: lines.filter(l => l !== '').join('\n'),
    ...(node.time === undefined ? {} : { time: node.time }),
    digest: node.digest ?? node.id,
    fetched: node.fetched === true,
    ...(title.startsWith('artifact.') && node.subject !== undefined ? { entity: { type: 'artifact', id: node.subject } } : {})
  }
}

/** What one `?resolve=true` did: fetched, from whom, what is still missing, what was refused and why. */
export function resolutionText (r: Resolution): string {
  const parts = [`Resolved from peers: ${r.fetched} event${r.fetched === 1 ? '' : 's'} fetched from ${r.peers.length} peer${r.peers.length === 1 ? '' : 's'} in ${r.rounds} round${r.rounds === 1 ? '' : 's'}`]
  if (r.unresolved.length > 0) parts.push(`${r.unresolved.length} still unresolved (no peer answered)`)
  if (r.refused.length > 0) {
    const codes = [...new Set(r.refused.map(x => x.code))].join(', ')
    parts.push(`${r.refused.length} refused (${codes})`)
  }
  if (r.truncated) parts.push('stopped by a bound (references, rounds or time)')
  return `${parts.join('; ')}.`
}
