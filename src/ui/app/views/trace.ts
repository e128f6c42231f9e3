import type { TraceDirection, TraceGraph } from '../../../contracts/trace.js'
import { el, errorText, link, notice } from '../dom.js'
import { href } from '../view.js'
import type { View, ViewContext } from '../view.js'
import { pathWithSettings, routeWithSettings, withSettings } from './route-params.js'
import { drawGraph } from './trace-canvas.js'
import { graphModel } from './trace-model.js'
import type { GraphModel, GraphNodeModel } from './trace-model.js'
import { graphTables } from './trace-table.js'

/**
 * The Chain and Trace views: `#/chain/<chainId>` draws every held event of a chain,
 * `#/trace/<digest>?direction=&depth=` the neighbourhood of one event; both with
 * `resolve=true` to ask the node to fetch what it does not hold from its peers.
 */

const DIRECTIONS: TraceDirection[] = ['both', 'up', 'down']

interface Target {
  heading: string
  /** the REST path of the graph */
  apiPath: (resolve: boolean) => string
  /** the route of the same target with other settings */
  route: (settings: Record<string, string | undefined>) => string
  controls: Node[]
  settings: Record<string, string | undefined>
  /** shows what the controls say (Enter in a field) */
  apply?: () => void
}

export const chainView: View = {
  title: 'Chain',
  match: routeWithSettings('/chain', 'chainId'),
  render: (root, ctx) => {
    const chainId = ctx.params.chainId ?? ''
    return renderGraphView(root, ctx, {
      heading: `Chain ${chainId}`,
      apiPath: resolve => withSettings(`/v1/chains/${encodeURIComponent(chainId)}`, { resolve: resolve ? 'true' : undefined }),
      route: settings => pathWithSettings('/chain', chainId, settings),
      controls: [],
      settings: {}
    })
  }
}

export const traceView: View = {
  title: 'Trace',
  match: routeWithSettings('/trace', 'digest'),
  render: (root, ctx) => {
    const digest = ctx.params.digest ?? ''
    const direction = DIRECTIONS.find(d => d === ctx.params.direction) ?? 'both'
    // the node's default and bound apply when the page sends none, and it refuses a deeper one with a clear error
    const depth = depthOf(ctx.params.depth)
    const settings = { direction, depth }
    const route = (s: Record<string, string | undefined>): string => pathWithSettings('/trace', digest, s)
    const directionSelect = el('select', { name: 'direction' }, ...DIRECTIONS.map(d => el('option', { value: d }, d === 'both' ? 'up and down' : d === 'up' ? 'upstream' : 'downstream')))
    directionSelect.value = direction
    const depthInput = el('input', { name: 'depth', type: 'number', min: '0', placeholder: 'default', value: depth ?? '' })
    const apply = (): void => { ctx.navigate(route({ resolve: ctx.params.resolve === 'true' ? 'true' : undefined, direction: directionSelect.value, depth: depthOf(depthInput.value) })) }
    directionSelect.addEventListener('change', apply)
    depthInput.addEventListener('change', apply)
    return renderGraphView(root, ctx, {
      heading: `Trace of event ${digest.slice(0, 16)}…`,
      apiPath: resolve => withSettings(`/v1/events/${encodeURIComponent(digest)}/trace`, { direction, depth, resolve: resolve ? 'true' : undefined }),
      route,
      controls: [
        link(href('/event', digest), 'the event'),
        el('label', {}, 'Direction ', directionSelect),
        el('label', {}, 'Depth ', depthInput)
      ],
      settings,
      apply
    })
  }
}

/** A depth the page passes on: digits only, else none (the node's default). */
function depthOf (text: string | undefined): string | undefined {
  return text !== undefined && /^\d{1,3}$/.test(text) ? text : undefined
}

function renderGraphView (root: HTMLElement, ctx: ViewContext, target: Target): () => void {
  const resolve = ctx.params.resolve === 'true'
  const resolveBox = el('input', { type: 'checkbox', name: 'resolve' })
  resolveBox.checked = resolve
  resolveBox.addEventListener('change', () => {
    ctx.navigate(target.route({ ...target.settings, resolve: resolveBox.checked ? 'true' : undefined }))
  })
  const status = el('p', { class: 'notice', role: 'status' }, 'loading…')
  const body = el('div', { class: 'trace-body' })
  const form = el('form', { class: 'trace-controls' }, ...target.controls,
    el('label', { title: 'ask peers for the linked events this node does not hold' }, resolveBox, ' resolve from peers'))
  // the page never submits a form to the node: the settings go into the view's link
  form.addEventListener('submit', event => {
    event.preventDefault()
    target.apply?.()
  })
  root.replaceChildren(el('h1', {}, target.heading), form, status, body)
  let stop: (() => void) | undefined
  let gone = false
  ctx.api<TraceGraph>(target.apiPath(resolve)).then(graph => {
    if (gone) return
    const model = graphModel(graph, peerId => ctx.trustName(peerId))
    status.textContent = `${model.nodes.length} events (${model.nodes.filter(n => !n.resolved).length} unresolved), ${model.edges.length} edges`
    stop = renderGraph(body, model, ctx)
  }, (err: unknown) => {
    if (gone) return
    status.replaceWith(notice(`could not load the graph: ${errorText(err)}`, 'error'))
  })
  return () => {
    gone = true
    stop?.()
  }
}

function renderGraph (body: HTMLElement, model: GraphModel, ctx: ViewContext): () => void {
  const selection = el('section', { class: 'trace-selection', 'aria-live': 'polite' })
  const canvas = el('div', { class: 'trace-canvas', role: 'img', 'aria-label': `graph of ${model.nodes.length} events and ${model.edges.length} edges, upstream on the left; the tables below list them` })
  // cytoscape sizes its canvas to the container: it needs a height before it draws
  canvas.style.height = `${Math.min(600, Math.max(280, 60 * model.nodes.length))}px`
  body.replaceChildren(
    ...(model.truncated ? [el('p', { class: 'warn', role: 'alert' }, 'Truncated: the node holds more than this graph shows (a bound on nodes or depth was reached).')] : []),
    ...(model.resolution === undefined ? [] : [el('p', { class: 'notice trace-resolution' }, model.resolution)]),
    legend(model),
    canvas,
    selection,
    graphTables(model)
  )
  if (model.nodes.length === 0) {
    canvas.replaceChildren(notice('no events: this node holds none of this chain'))
    return () => {}
  }
  const byId = new Map(model.nodes.map(n => [n.id, n]))
  return drawGraph(canvas, model, {
    onSelect: id => {
      const node = byId.get(id)
      if (node === undefined) return
      if (node.resolved && node.digest !== undefined) ctx.navigate(`/event/${node.digest}`)
      else selection.replaceChildren(...describeUnresolved(node))
    }
  })
}

function describeUnresolved (node: GraphNodeModel): Node[] {
  const out: Node[] = [el('strong', {}, 'Not held by this node: '), document.createTextNode(`${node.detail}. `)]
  if (node.entity?.type === 'artifact') out.push(link(href('/artifact', node.entity.id), 'open the artifact'), document.createTextNode('. '))
  out.push(document.createTextNode('Tick “resolve from peers” to ask the node\'s peers for it.'))
  return out
}

function legend (model: GraphModel): HTMLElement {
  return el('div', { class: 'trace-legend' },
    el('ul', { 'aria-label': 'communities' }, ...model.legend.map(entry => {
      const swatch = el('span', { class: 'swatch', 'aria-hidden': 'true' })
      swatch.style.backgroundColor = entry.colour
      return el('li', {}, swatch, entry.community)
    })),
    el('p', {}, 'Border: green = success, red with cut corners = failure, orange hexagon = error; grey dashed = not held here (unresolved); dotted border = fetched from a peer for this trace. Edges: solid = link, dotted = shared entity (artifact, environment…), labelled kind: via.')
  )
}
