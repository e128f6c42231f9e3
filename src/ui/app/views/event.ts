import type { TraceEdge, TraceGraph, TraceNode } from '../../../contracts/trace.js'
import type { EventView } from '../../../events/event-view.js'
import type { CDEvent } from '../../../events/types.js'
import { el, errorText, facts, link, notice } from '../dom.js'
import type { Child } from '../dom.js'
import type { View, ViewContext } from '../view.js'
import { href, route } from '../view.js'

/** A page of GET /v1/events searched for the event's view (its trust flag and arrival). */
const VIEW_SEARCH_LIMIT = 100

interface SignedRecord extends Record<string, unknown> {
  source: string
  id: string
  type: string
  data_base64: string
  dssematerial?: string
}

/**
 * `#/event/<digest>`: one event. The record comes byte for byte from GET /v1/events/{digest};
 * who signed it and its neighbours from a one-step trace; its trust flag from the stored view.
 */
export const eventView: View = {
  title: 'Event',
  match: route('/event', 'digest'),
  render: (root, ctx) => {
    const { digest } = ctx.params as { digest: string }
    root.append(el('h1', {}, 'Event'), notice('loading…'))
    let left = false
    load(digest, ctx).then(parts => {
      if (!left) root.replaceChildren(el('h1', {}, 'Event'), ...parts)
    }, (err: unknown) => {
      if (!left) root.replaceChildren(el('h1', {}, 'Event'), notice(errorText(err), 'error'))
    })
    return () => { left = true }
  }
}

async function load (digest: string, ctx: ViewContext): Promise<Node[]> {
  const record = await ctx.api<SignedRecord>(`/v1/events/${digest}`)
  const cdevent = JSON.parse(decodeBase64Utf8(record.data_base64)) as CDEvent
  const [trace, view] = await Promise.all([
    ctx.api<TraceGraph>(`/v1/events/${digest}/trace?direction=both&depth=1`),
    storedView(digest, cdevent, ctx)
  ])
  const self = trace.nodes.find(n => n.id === trace.root)
  const origin = self?.origin ?? view?.origin
  return [
    summary(digest, cdevent, origin, view, ctx),
    actions(digest, cdevent),
    el('h2', {}, 'Links'),
    neighbours(trace, ctx),
    el('h2', {}, 'CDEvent'),
    el('pre', { class: 'json cdevent' }, JSON.stringify(cdevent, null, 2)),
    el('h2', {}, 'Signed record'),
    el('p', {}, 'The CloudEvent as stored and gossiped, identical on every node; data_base64 is the CDEvent above, dssematerial its DSSE signature.'),
    el('pre', { class: 'json record' }, JSON.stringify(record, null, 2))
  ]
}

/** The stored view: the events of the same source and subject, searched for this digest. */
async function storedView (digest: string, cdevent: CDEvent, ctx: ViewContext): Promise<EventView | undefined> {
  const query = new URLSearchParams({ source: cdevent.context.source, subject: cdevent.subject.id, limit: String(VIEW_SEARCH_LIMIT) })
  try {
    const page = await ctx.api<{ events: EventView[] }>(`/v1/events?${query.toString()}`)
    return page.events.find(e => e.digest === digest)
  } catch {
    return undefined
  }
}

function summary (digest: string, cdevent: CDEvent, origin: string | undefined, view: EventView | undefined, ctx: ViewContext): HTMLTableElement {
  const { context, subject } = cdevent
  const trust: Child = view === undefined
    ? 'unknown (not found among the stored views)'
    : view.trusted ? el('span', { class: 'ok' }, 'trusted: the signer and this source and class are in the trust policy') : el('span', { class: 'warn' }, 'untrusted: stored in open mode, outside the trust policy')
  return facts([
    ['type', context.type],
    ['subject', `${subject.id}${typeof subject.content.outcome === 'string' ? ` (${subject.content.outcome})` : ''}`],
    ['source', context.source],
    ['id', context.id],
    ['time', context.timestamp],
    ['chain', context.chainId === undefined ? '—' : link(href('/chain', context.chainId), context.chainId)],
    ['signer', origin === undefined ? 'unknown' : el('span', {}, el('strong', { class: 'trust-name' }, ctx.trustName(origin)), ' ', el('code', {}, origin))],
    ['signature', el('span', { class: 'ok' }, 'verified: the node stores only records whose DSSE signature verified')],
    ['trust', trust],
    ['received', view === undefined ? '—' : `${view.receivedAt} (sequence ${view.sequence} of its signer's ${view.class})`],
    ['digest', el('code', {}, digest)]
  ])
}

function actions (digest: string, cdevent: CDEvent): HTMLElement {
  const artifact = cdevent.subject.content.artifactId
  return el('p', { class: 'actions' },
    el('a', { class: 'button', href: href('/trace', digest) }, 'trace'),
    cdevent.context.chainId === undefined ? undefined : el('a', { class: 'button', href: href('/chain', cdevent.context.chainId) }, 'chain'),
    typeof artifact === 'string' ? el('a', { class: 'button', href: href('/artifact', artifact) }, 'artifact') : undefined)
}

/** The events one edge away, upstream first: held ones as links, the others by what names them. */
function neighbours (trace: TraceGraph, ctx: ViewContext): HTMLElement {
  const nodes = new Map(trace.nodes.map(n => [n.id, n]))
  const rows: HTMLElement[] = []
  const row = (direction: string, edge: TraceEdge, other: TraceNode | undefined): void => {
    rows.push(el('li', { class: other?.resolved === true ? 'link' : 'link unresolved' },
      `${direction} `, el('em', {}, `${edge.kind} ${edge.via}`), ' ', other === undefined ? '?' : nodeLabel(other, ctx)))
  }
  for (const edge of trace.edges) {
    if (edge.to === trace.root) row('from', edge, nodes.get(edge.from))
  }
  for (const edge of trace.edges) {
    if (edge.from === trace.root) row('to', edge, nodes.get(edge.to))
  }
  if (rows.length === 0) return notice('no links: no event this node holds links to or from it, and it names none')
  return el('ul', { class: 'links' }, ...rows)
}

function nodeLabel (node: TraceNode, ctx: ViewContext): Node {
  if (!node.resolved || node.digest === undefined) {
    const what = node.entity === undefined ? `${node.source ?? ''} ${node.contextId ?? ''}` : `${node.entity.type} ${node.entity.id}`
    return el('span', {}, `${what.trim()} (not held by this node)`)
  }
  const who = node.origin === undefined ? '' : ` [${node.community ?? ctx.trustName(node.origin)}]`
  const text = `${node.eventClass ?? node.type ?? 'event'} ${node.subject ?? ''}${node.outcome === undefined ? '' : ` ${node.outcome}`}${who}`
  return link(href('/event', node.digest), text)
}

function decodeBase64Utf8 (base64: string): string {
  const binary = atob(base64)
  const bytes = Uint8Array.from(binary, c => c.charCodeAt(0))
  return new TextDecoder().decode(bytes)
}
