import { apiGet } from './api.js'
import { el, errorText, link, notice } from './dom.js'
import type { View, ViewContext } from './view.js'
import { NAVIGATION, VIEWS } from './views/index.js'

/** The shortened peer ID shown when the node has no trust entry for a signer. */
const SHORT_PEER_ID = 12

interface TrustList { entries: Array<{ peerId: string, name: string }> }

/**
 * The shell: a navigation bar and one view at a time, chosen by the URL's hash (`#/live`,
 * `#/event/<digest>`), so every page has a link and the browser's back button works.
 */
async function start (): Promise<void> {
  const names = new Map<string, string>()
  const self = await apiGet<{ peerId: string, network: string }>('/v1/node')
  names.set(self.peerId, 'self')
  try {
    const trust = await apiGet<TrustList>('/v1/trust')
    for (const entry of trust.entries) names.set(entry.peerId, entry.name)
  } catch {
    // names are a convenience: without them peers show as shortened peer IDs
  }

  const main = el('main', { id: 'view' })
  const nav = el('nav', {},
    el('span', { class: 'brand' }, `cdgossip · ${self.network}`),
    ...NAVIGATION.map(n => link('#' + n.path, n.title)))
  document.body.replaceChildren(el('header', {}, nav), main)

  let cleanup: (() => void) | undefined
  const show = (): void => {
    cleanup?.()
    cleanup = undefined
    const path = location.hash.replace(/^#/, '')
    const found = pick(path === '' || path === '/' ? (NAVIGATION[0]?.path ?? '/') : path)
    main.replaceChildren()
    for (const a of nav.querySelectorAll('a')) a.classList.toggle('current', a.getAttribute('href') === '#' + path)
    if (found === undefined) {
      document.title = 'cdgossip'
      main.append(notice(`no page at ${path}`, 'error'))
      return
    }
    document.title = `${found.view.title} · cdgossip`
    const ctx: ViewContext = {
      params: found.params,
      api: apiGet,
      navigate: target => { location.hash = target },
      trustName: peerId => names.get(peerId) ?? peerId.slice(-SHORT_PEER_ID)
    }
    try {
      cleanup = found.view.render(main, ctx) ?? undefined
    } catch (err) {
      main.append(notice(errorText(err), 'error'))
    }
  }
  window.addEventListener('hashchange', show)
  show()
}

function pick (path: string): { view: View, params: Record<string, string> } | undefined {
  for (const view of VIEWS) {
    const params = view.match(path)
    if (params !== undefined) return { view, params }
  }
  return undefined
}

start().catch((err: unknown) => {
  document.body.replaceChildren(notice(`the page could not start: ${errorText(err)}`, 'error'))
})
