import cytoscape from 'cytoscape'
import dagre from 'cytoscape-dagre'
import type { DagreLayoutOptions } from 'cytoscape-dagre'
import { el } from '../dom.js'
import type { GraphModel, RenderedGraph } from './trace-model.js'

/**
 * Draws a trace graph with cytoscape and its dagre layout, left to right: an edge goes from
 * upstream to downstream, so dagre's ranks put what came first on the left. Communities fill the
 * nodes; outcomes shape and border them; unresolved nodes and the edges to them are grey and dashed.
 */

cytoscape.use(dagre)

/**
 * cytoscape adds an inline <style> (its container's `position: relative`) unless an element
 * with this id exists. The node's CSP refuses inline styles, and style.css already has the rule
 * for .trace-canvas, so a placeholder with the id keeps cytoscape from trying.
 */
const CYTOSCAPE_STYLESHEET_ID = '__________cytoscape_stylesheet'

declare global {
  /** what the canvas drew, where: for tests and tools */
  interface Window { __cdgossipGraph?: RenderedGraph }
}

const OUTCOME_BORDER = { success: '#1a7f37', failure: '#cf222e', error: '#bc4c00' } as const

const STYLE: cytoscape.StylesheetJson = [
  {
    selector: 'node',
    style: {
      shape: 'round-rectangle',
      width: 170,
      height: 64,
      'background-color': 'data(colour)',
      'background-opacity': 0.35,
      'border-width': 1,
      'border-color': '#555',
      label: 'data(label)',
      'text-wrap': 'wrap',
      'text-max-width': '160px',
      'text-valign': 'center',
      'font-size': 10,
      color: '#111'
    }
  },
  { selector: 'node[outcome = "success"]', style: { 'border-width': 4, 'border-color': OUTCOME_BORDER.success } },
  { selector: 'node[outcome = "failure"]', style: { shape: 'cut-rectangle', 'border-width': 4, 'border-style': 'double', 'border-color': OUTCOME_BORDER.failure } },
  { selector: 'node[outcome = "error"]', style: { shape: 'concave-hexagon', 'border-width': 4, 'border-color': OUTCOME_BORDER.error } },
  { selector: 'node[?fetched]', style: { 'border-style': 'dotted', 'border-width': 4 } },
  { selector: 'node[!resolved]', style: { 'border-style': 'dashed', 'border-width': 2, 'border-color': '#888', color: '#444', 'background-opacity': 1 } },
  { selector: 'node:selected', style: { 'overlay-color': '#0969da', 'overlay-opacity': 0.2 } },
  {
    selector: 'edge',
    style: {
      width: 2,
      'curve-style': 'bezier',
      'line-color': '#57606a',
      'target-arrow-color': '#57606a',
      'target-arrow-shape': 'triangle',
      label: 'data(label)',
      'font-size': 8,
      'text-rotation': 'autorotate',
      'text-background-color': '#fff',
      'text-background-opacity': 0.8,
      'text-background-padding': '1px'
    }
  },
  { selector: 'edge[kind = "relation"]', style: { 'line-style': 'solid', width: 1.5 } },
  { selector: 'edge[kind = "entity"]', style: { 'line-style': 'dotted' } },
  { selector: 'edge[?unresolved]', style: { 'line-style': 'dashed', 'line-color': '#999', 'target-arrow-color': '#999', color: '#555' } }
]

export interface CanvasOptions {
  /** a node was clicked or tapped */
  onSelect: (nodeId: string) => void
}

/** Draws `model` into `container`; returns what stops it (and forgets the test hook). */
export function drawGraph (container: HTMLElement, model: GraphModel, options: CanvasOptions): () => void {
  if (document.getElementById(CYTOSCAPE_STYLESHEET_ID) === null) document.head.append(el('meta', { id: CYTOSCAPE_STYLESHEET_ID }))
  const cy = cytoscape({
    container,
    elements: [
      ...model.nodes.map(n => ({ group: 'nodes' as const, data: { id: n.id, label: n.label, colour: n.colour, outcome: n.outcome, resolved: n.resolved, fetched: n.fetched, time: n.time ?? '' } })),
      ...model.edges.map(e => ({ group: 'edges' as const, data: { id: e.id, source: e.from, target: e.to, kind: e.kind, label: e.label, unresolved: e.unresolved } }))
    ],
    style: STYLE,
    // a graph to read, not to rearrange; zoom and pan stay for large ones
    autoungrabify: true,
    boxSelectionEnabled: false,
    minZoom: 0.2,
    maxZoom: 3
  })
  cy.on('tap', 'node', event => { options.onSelect((event.target as cytoscape.NodeSingular).id()) })
  const publish = (): void => {
    const box = container.getBoundingClientRect()
    window.__cdgossipGraph = {
      nodes: cy.nodes().map(n => {
        const at = n.renderedPosition()
        return { id: n.id(), resolved: n.data('resolved') as boolean, x: n.position('x'), y: n.position('y'), clientX: box.left + at.x, clientY: box.top + at.y }
      }),
      edges: cy.edges().map(e => ({ id: e.id(), from: e.source().id(), to: e.target().id() }))
    }
    container.dataset.rendered = String(cy.nodes().length)
  }
  cy.on('layoutstop viewport resize', publish)
  const layout: DagreLayoutOptions = {
    name: 'dagre',
    rankDir: 'LR',
    nodeSep: 24,
    rankSep: 70,
    // within one rank, older events above newer ones
    sort: (a, b) => String(a.data('time')).localeCompare(String(b.data('time'))),
    fit: true,
    padding: 20
  }
  cy.layout(layout as unknown as cytoscape.LayoutOptions).run()
  return () => {
    cy.destroy()
    delete window.__cdgossipGraph
  }
}
