import { UsageError, parse } from '../args.js'
import { EXIT } from '../command.js'
import type { CommandGroup, Out } from '../command.js'
import { client } from '../connect.js'
import { formatTable } from '../format.js'
import type { ArtifactView, Resolution, TraceGraph, TraceNode } from '../../contracts/trace.js'

/**
 * `cdgossip trace <digest | chain id | purl>` and `cdgossip artifact <purl>`: the traceability
 * API as indented trees and a confidence table.
 */
export const TRACE_COMMANDS: CommandGroup = {
  trace: cmdTrace,
  artifact: cmdArtifact
}

const TRACE_USAGE = 'usage: cdgossip trace DIGEST|CHAIN_ID|PURL [--direction up|down|both] [--depth N] [--resolve] [--json]'
const ARTIFACT_USAGE = 'usage: cdgossip artifact PURL [--resolve] [--json]'
const DIGEST_RE = /^[0-9a-f]{64}$/
/** Package URLs start with their scheme (purl-spec); a chain id never does in practice. */
const PURL_PREFIX = 'pkg:'

function label (n: TraceNode): string {
  if (!n.resolved) {
    if (n.entity !== undefined) return `? ${n.entity.type} ${n.entity.id} (not held)`
    return `? ${n.source === undefined ? '' : n.source + ' '}${n.contextId ?? ''} (not held)`
  }
  const parts = [n.eventClass ?? '', n.subject ?? '']
  if (n.outcome !== undefined) parts.push(n.outcome)
  parts.push(`[${n.community ?? (n.origin ?? '').slice(-8)}]`, n.time ?? '', (n.digest ?? '').slice(0, 12))
  if (n.fetched === true) parts.push('(fetched)')
  return parts.filter(p => p !== '').join('  ')
}

/** One line on what `--resolve` fetched, and what stayed unresolved. */
function resolutionLine (r: Resolution): string {
  const from = r.peers.length === 0 ? '' : ` from ${r.peers.map(p => p.slice(-8)).join(', ')}`
  const refused = r.refused.length === 0 ? '' : `; ${r.refused.length} refused (${[...new Set(r.refused.map(x => x.code))].join(', ')})`
  return `resolve: ${r.fetched} fetched${from} in ${r.rounds} round(s); ${r.unresolved.length} still unresolved${refused}${r.truncated ? '; stopped at a bound' : ''}`
}

/**
 * The graph as trees from `starts`, following edges downstream (`down`) or upstream; a node
 * reached twice is printed once with its subtree, then as `(above)`.
 */
export function graphTree (graph: TraceGraph, starts: string[], direction: 'up' | 'down'): string[] {
  const nodes = new Map(graph.nodes.map(n => [n.id, n]))
  const lines: string[] = []
  const printed = new Set<string>()
  const walk = (id: string, depth: number, via: string | undefined): void => {
    const node = nodes.get(id)
    if (node === undefined) return
    const arrow = via === undefined ? '' : (direction === 'down' ? `→ ${via}  ` : `← ${via}  `)
    const again = printed.has(id)
    lines.push(`${'  '.repeat(depth)}${arrow}${label(node)}${again ? '  (above)' : ''}`)
    if (again) return
    printed.add(id)
    // parallel edges (a PATH link and an artifactId between the same two events) as one line
    const next = new Map<string, string[]>()
    for (const e of graph.edges) {
      if ((direction === 'down' ? e.from : e.to) !== id) continue
      const other = direction === 'down' ? e.to : e.from
      next.set(other, [...(next.get(other) ?? []), e.via])
    }
    for (const [other, vias] of next) walk(other, depth + 1, vias.join(', '))
  }
  for (const id of starts) walk(id, 0, undefined)
  return lines
}

/** Nodes nothing upstream of them in the graph points at: where a chain starts. */
function roots (graph: TraceGraph): string[] {
  const hasUpstream = new Set(graph.edges.map(e => e.to))
  const out = graph.nodes.filter(n => !hasUpstream.has(n.id)).map(n => n.id)
  return out.length > 0 ? out : graph.nodes.slice(0, 1).map(n => n.id)
}

async function cmdTrace (args: string[], out: Out): Promise<number> {
  const { values, positionals } = parse(args, { direction: { type: 'string' }, depth: { type: 'string' }, resolve: { type: 'boolean' }, json: { type: 'boolean' } })
  const [what] = positionals
  if (what === undefined || positionals.length !== 1) throw new UsageError(TRACE_USAGE)
  const direction = typeof values.direction === 'string' ? values.direction : 'both'
  if (direction !== 'up' && direction !== 'down' && direction !== 'both') throw new UsageError(`--direction takes up, down or both\n${TRACE_USAGE}`)
  const depth = typeof values.depth === 'string' ? values.depth : undefined
  if (depth !== undefined && !/^[0-9]{1,2}$/.test(depth)) throw new UsageError(`--depth takes a small whole number\n${TRACE_USAGE}`)
  const api = await client(values)
  const q = new URLSearchParams({ direction })
  if (depth !== undefined) q.set('depth', depth)
  const resolve = values.resolve === true ? '?resolve=true' : ''
  if (resolve !== '') q.set('resolve', 'true')

  const graphs: TraceGraph[] = []
  if (DIGEST_RE.test(what)) {
    graphs.push((await api.request<TraceGraph>('GET', `/v1/events/${what}/trace?${q.toString()}`)).body)
  } else if (what.startsWith(PURL_PREFIX)) {
    const view = (await api.request<ArtifactView>('GET', `/v1/artifacts/${encodeURIComponent(what)}${resolve}`)).body
    for (const n of view.lifecycle) graphs.push((await api.request<TraceGraph>('GET', `/v1/events/${n.id}/trace?${q.toString()}`)).body)
  } else {
    graphs.push((await api.request<TraceGraph>('GET', `/v1/chains/${encodeURIComponent(what)}${resolve}`)).body)
  }
  if (values.json === true) {
    out(JSON.stringify(graphs.length === 1 ? graphs[0] : graphs, null, 2))
    return EXIT.OK
  }
  if (graphs.length === 0) out(`nothing held for ${what}`)
  for (const graph of graphs) {
    if (graph.root === undefined) {
      out(`chain ${what}: ${graph.nodes.filter(n => n.resolved).length} events held`)
      for (const line of graphTree(graph, roots(graph), 'down')) out(line)
    } else {
      const root = graph.nodes.find(n => n.id === graph.root)
      if (root !== undefined) out(label(root))
      if (direction !== 'down') {
        out('upstream:')
        for (const line of graphTree(graph, [graph.root], 'up').slice(1)) out(line)
      }
      if (direction !== 'up') {
        out('downstream:')
        for (const line of graphTree(graph, [graph.root], 'down').slice(1)) out(line)
      }
    }
    if (graph.truncated) out('(truncated: more is held than shown; narrow with --depth or --direction)')
    if (graph.resolution !== undefined) out(resolutionLine(graph.resolution))
  }
  return EXIT.OK
}

async function cmdArtifact (args: string[], out: Out): Promise<number> {
  const { values, positionals } = parse(args, { resolve: { type: 'boolean' }, json: { type: 'boolean' } })
  const [purl] = positionals
  if (purl === undefined || positionals.length !== 1) throw new UsageError(ARTIFACT_USAGE)
  const api = await client(values)
  const resolve = values.resolve === true ? '?resolve=true' : ''
  const view = (await api.request<ArtifactView>('GET', `/v1/artifacts/${encodeURIComponent(purl)}${resolve}`)).body
  if (values.json === true) {
    out(JSON.stringify(view, null, 2))
    return EXIT.OK
  }
  out(`artifact ${view.purl}`)
  const list = (title: string, nodes: TraceNode[]): void => {
    if (nodes.length === 0) return
    out(`${title}:`)
    for (const n of nodes) out(`  ${label(n)}`)
  }
  list('lifecycle', view.lifecycle)
  list('built by', view.builds)
  list('changes', view.changes)
  if (view.confidence.length === 0) {
    out('confidence: no test results held for this artifact')
  } else {
    out('confidence (newest first):')
    out(formatTable(['COMMUNITY', 'PASSED', 'FAILED', 'LATEST', 'SUITE', 'TIME'],
      view.confidence.map(c => [c.community, String(c.passed), String(c.failed), c.latest.outcome, c.latest.suite, c.latest.time ?? ''])))
  }
  if (view.deployments.length > 0) {
    out('deployments:')
    out(formatTable(['COMMUNITY', 'SERVICE', 'ENVIRONMENT', 'CLASS', 'TIME'],
      view.deployments.map(d => [d.community, d.service, d.environment ?? '', d.eventClass, d.time ?? ''])))
  }
  if (view.truncated) out('(truncated: more is held than shown)')
  if (view.resolution !== undefined) out(resolutionLine(view.resolution))
  return EXIT.OK
}
