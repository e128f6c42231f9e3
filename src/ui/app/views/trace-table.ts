import { el, link } from '../dom.js'
import { href } from '../view.js'
import type { GraphModel, GraphNodeModel } from './trace-model.js'

/**
 * The trace graph as two plain tables, events then edges: what the canvas shows, for screen
 * readers, keyboards, copy and paste, and browsers that draw no canvas.
 */

export function eventLink (node: GraphNodeModel): Node {
  return node.resolved && node.digest !== undefined ? link(href('/event', node.digest), node.title) : el('span', {}, node.title)
}

export function graphTables (model: GraphModel): HTMLElement {
  const byId = new Map(model.nodes.map(n => [n.id, n]))
  const nameOf = (id: string): Node => {
    const n = byId.get(id)
    return n === undefined ? el('span', {}, id) : n.resolved ? eventLink(n) : el('span', {}, `unresolved: ${n.detail}`)
  }
  const events = el('table', { class: 'list trace-nodes' },
    el('caption', {}, `Events (${model.nodes.length})`),
    el('thead', {}, row('th', ['Event', 'Community', 'Subject / names', 'Outcome', 'Time'])),
    el('tbody', {}, ...model.nodes.map(n => {
      const detail = n.entity?.type === 'artifact' ? link(href('/artifact', n.entity.id), n.detail) : n.detail
      const community = n.community ?? (n.resolved ? '' : 'not held here')
      const tr = row('td', [eventLink(n), n.fetched ? `${community} (fetched from a peer)` : community, detail, n.outcomeText ?? '', n.time ?? ''])
      tr.dataset.nodeId = n.id
      tr.dataset.resolved = String(n.resolved)
      tr.dataset.fetched = String(n.fetched)
      if (!n.resolved) tr.className = 'unresolved'
      return tr
    }))
  )
  const edges = el('table', { class: 'list trace-edges' },
    el('caption', {}, `Edges (${model.edges.length}), upstream → downstream`),
    el('thead', {}, row('th', ['From', 'To', 'Kind', 'Via'])),
    el('tbody', {}, ...model.edges.map(e => {
      const tr = row('td', [nameOf(e.from), nameOf(e.to), e.kind, e.via])
      tr.dataset.from = e.from
      tr.dataset.to = e.to
      if (e.unresolved) tr.className = 'unresolved'
      return tr
    }))
  )
  return el('div', { class: 'trace-tables' }, events, edges)
}

function row (cell: 'th' | 'td', values: Array<Node | string>): HTMLTableRowElement {
  return el('tr', {}, ...values.map(v => el(cell, cell === 'th' ? { scope: 'col' } : {}, v)))
}
