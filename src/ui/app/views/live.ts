import { el, errorText } from '../dom.js'
import type { View, ViewContext } from '../view.js'
import { href } from '../view.js'
import type { EventView } from '../../../events/event-view.js'

/** The filters of GET /v1/events that the form offers, in its order. */
const FILTERS: ReadonlyArray<{ name: string, label: string, hint: string }> = [
  { name: 'type', label: 'class', hint: 'artifact.* or pipelinerun.finished' },
  { name: 'source', label: 'source', hint: 'source prefix' },
  { name: 'subject', label: 'subject', hint: 'subject id' },
  { name: 'chainId', label: 'chain', hint: 'chain id' },
  { name: 'origin', label: 'origin', hint: 'signer peer ID' },
  { name: 'trusted', label: 'trusted', hint: 'true or false' }
]
/** Stored events the stream starts with before live ones: a screenful. */
const BACKLOG = 50
/** Rows kept on the page; older ones drop off the bottom. */
const MAX_ROWS = 500

/**
 * `#/live?type=…&origin=…`: the event stream (SSE, GET /v1/stream) with GET /v1/events'
 * filters, newest on top. The filters live in the hash, so a filtered stream has a link.
 */
export const liveView: View = {
  title: 'Live',
  match: path => {
    const [base, query = ''] = path.split('?', 2)
    if (base !== '/live') return undefined
    const params: Record<string, string> = {}
    for (const [name, value] of new URLSearchParams(query)) {
      if (FILTERS.some(f => f.name === name) && value !== '') params[name] = value
    }
    return params
  },
  render: (root, ctx) => {
    const status = el('span', { class: 'status' }, 'connecting…')
    const rows = el('tbody')
    root.append(
      el('h1', {}, 'Live events'),
      filterForm(ctx),
      el('p', {}, status),
      el('table', { class: 'list events' },
        el('thead', {}, el('tr', {}, ...['time', 'class', 'subject', 'source', 'origin'].map(h => el('th', {}, h)))),
        rows))

    const query = new URLSearchParams(ctx.params)
    // EventSource cannot read an error body: a bad filter is reported by the same query over GET /v1/events
    ctx.api(`/v1/events?limit=1&${query.toString()}`).catch((err: unknown) => {
      status.textContent = errorText(err)
      status.className = 'status error'
    })
    query.set('last', String(BACKLOG))
    const source = new EventSource(`/v1/stream?${query.toString()}`)
    source.addEventListener('open', () => { status.textContent = 'live'; status.className = 'status ok' })
    source.addEventListener('error', () => {
      if (status.className === 'status error') return
      status.textContent = source.readyState === EventSource.CLOSED ? 'stream closed' : 'reconnecting…'
      status.className = 'status warn'
    })
    source.addEventListener('overflow', () => { status.textContent = 'too many events at once: reconnecting' })
    source.addEventListener('cdevent', message => {
      let view: EventView
      try {
        view = JSON.parse((message as MessageEvent<string>).data) as EventView
      } catch {
        return
      }
      rows.prepend(eventRow(view, ctx))
      while (rows.childElementCount > MAX_ROWS) rows.lastElementChild?.remove()
    })
    return () => { source.close() }
  }
}

function filterForm (ctx: ViewContext): HTMLFormElement {
  const inputs = FILTERS.map(f => el('input', { name: f.name, placeholder: f.hint, value: ctx.params[f.name] ?? '' }))
  const form = el('form', { class: 'filters' },
    ...FILTERS.map((f, i) => el('label', {}, f.label, inputs[i])),
    el('button', { type: 'submit' }, 'filter'))
  form.addEventListener('submit', e => {
    e.preventDefault()
    const query = new URLSearchParams()
    for (const input of inputs) if (input.value.trim() !== '') query.set(input.name, input.value.trim())
    const text = query.toString()
    ctx.navigate(text === '' ? '/live' : `/live?${text}`)
  })
  return form
}

function eventRow (view: EventView, ctx: ViewContext): HTMLTableRowElement {
  const { context, subject } = view.cdevent
  const row = el('tr', { class: view.trusted ? 'event' : 'event untrusted', 'data-digest': view.digest },
    el('td', { class: 'time', title: context.timestamp }, shortTime(context.timestamp)),
    el('td', {}, view.class),
    el('td', {}, el('a', { href: href('/event', view.digest) }, subject.id)),
    el('td', { class: 'source' }, context.source),
    el('td', { title: view.origin }, ctx.trustName(view.origin)))
  row.addEventListener('click', () => { ctx.navigate(`/event/${view.digest}`) })
  return row
}


/** `2026-12-02 18:53:59`: the date and second, enough to order a screen of events; the title has all of it. */
function shortTime (timestamp: string): string {
  return timestamp.replace('T', ' ').replace(/(:\d\d)(\.\d+)?(Z|[+-]\d\d:\d\d)$/, '$1')
}
