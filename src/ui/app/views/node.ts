import type { NodeInfo, PeerInfo, SyncState } from '../../../contracts/node-facade.js'
import type { Subscription } from '../../../subscriptions/types.js'
import type { TrustEntry, TrustMode } from '../../../trust/types.js'
import { el, errorText, facts, notice, table } from '../dom.js'
import type { View, ViewContext } from '../view.js'

/** How often the page asks the node again while it is open. */
const REFRESH_MS = 5000

interface Refusals { sequences: number, reasons: Record<string, number>, originCount: number, origins: Array<Record<string, unknown> & { origin: string, name?: string }> }

/** `#/node`: peers, trust, subscriptions, sync and refusals at a glance, refreshed while open. */
export const nodeView: View = {
  title: 'Node',
  match: path => path === '/node' ? {} : undefined,
  render: (root, ctx) => {
    const body = el('div', {}, notice('loading…'))
    root.append(el('h1', {}, 'Node'), body)
    let left = false
    const refresh = (): void => {
      load(ctx).then(parts => { if (!left) body.replaceChildren(...parts) },
        (err: unknown) => { if (!left) body.replaceChildren(notice(errorText(err), 'error')) })
    }
    refresh()
    const timer = setInterval(refresh, REFRESH_MS)
    return () => { left = true; clearInterval(timer) }
  }
}

async function load (ctx: ViewContext): Promise<Node[]> {
  const [info, peers, trust, subscriptions] = await Promise.all([
    ctx.api<NodeInfo>('/v1/node'),
    ctx.api<PeerInfo[]>('/v1/peers'),
    ctx.api<{ mode: TrustMode, entries: TrustEntry[] }>('/v1/trust'),
    ctx.api<Subscription[]>('/v1/subscriptions')
  ])
  return [
    facts([
      ['peer ID', el('code', {}, info.peerId)],
      ['network', info.network],
      ['version', info.version],
      ['listening', info.listenAddresses.join('\n')],
      ['events held', String(info.store.events)],
      ['topics', info.topics.join(', ')]
    ]),
    el('h2', {}, `Peers (${peers.length})`),
    peers.length === 0
      ? notice('no connected peers')
      : table(['peer', 'connected since', 'via', 'topics'], peers.map(p => [peerCell(p.peerId, ctx), p.connectedSince ?? '', p.via ?? '', String(p.topics.length)])),
    el('h2', {}, `Trust (${trust.mode})`),
    trust.entries.length === 0
      ? notice(trust.mode === 'open' ? 'no entries: every valid signature is accepted, marked untrusted' : 'no entries: only this node\'s own events are accepted')
      : table(['name', 'peer ID', 'sources', 'classes'], trust.entries.map(t => [el('strong', {}, t.name), el('code', {}, t.peerId), t.sources.join(', '), t.classes.join(', ')])),
    el('h2', {}, `Subscriptions (${subscriptions.length})`),
    subscriptions.length === 0
      ? notice('no subscriptions')
      : table(['id', 'classes', 'sink', 'from'], subscriptions.map(s => [s.id, s.classes.join(', '), s.sink.type, s.origin])),
    el('h2', {}, 'Sync'),
    ...syncParts(info.sync, ctx),
    el('h2', {}, 'Refusals'),
    refusalPart(info.refusals as Refusals | undefined, ctx)
  ]
}

function peerCell (peerId: string, ctx: ViewContext): HTMLElement {
  return el('span', { title: peerId }, ctx.trustName(peerId))
}

function syncParts (sync: SyncState | undefined, ctx: ViewContext): Node[] {
  if (sync === undefined) return [notice('sync is not running')]
  return [
    facts([
      ['open gaps', String(sync.gaps)],
      ['fetched', String(sync.fetched)],
      ['already held', String(sync.duplicates)],
      ['relayed', String(sync.relayed)],
      ['refused by trust', String(sync.refused)],
      ['rejected', String(sync.rejected)]
    ]),
    sync.peers.length === 0
      ? notice('no sync partners yet')
      : table(['peer', 'last sync', 'last error', 'score', 'in flight', 'backoff until'],
        sync.peers.map(p => [peerCell(p.peerId, ctx), p.lastSyncAt ?? '—', p.lastError ?? '', String(p.score), String(p.inFlight), p.backoffUntil ?? '']))
  ]
}

function refusalPart (refusals: Refusals | undefined, ctx: ViewContext): HTMLElement {
  if (refusals === undefined || refusals.sequences === 0) return notice('nothing refused')
  const reasons = Object.entries(refusals.reasons).map(([reason, count]) => `${reason}: ${count}`).join(', ')
  return el('div', {},
    el('p', {}, `${refusals.sequences} sequences refused from ${refusals.originCount} origins (${reasons})`),
    table(['origin', 'details'], refusals.origins.map(({ origin, name, ...rest }) => [el('span', { title: origin }, name ?? ctx.trustName(origin)), JSON.stringify(rest)])))
}
