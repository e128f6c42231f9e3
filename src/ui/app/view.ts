/**
 * The contract between the shell (main.ts) and each page of the web application. A view says
 * which hash paths it shows, and renders into the element the shell gives it; what it returns
 * runs when the user leaves (close an EventSource, stop a timer).
 */
export interface View {
  /** the navigation label and the document title's first part */
  title: string
  /** the parameters of `path` (the part after `#`, e.g. `/event/ab12…`) when this view shows it, else undefined */
  match: (path: string) => Record<string, string> | undefined
  render: (root: HTMLElement, ctx: ViewContext) => void | (() => void)
}

export interface ViewContext {
  /** what `match` returned, values already URI-decoded */
  params: Record<string, string>
  /** GET a node API path (`/v1/…`) with the session cookie; rejects with an ApiError carrying the CDG code */
  api: <T>(path: string) => Promise<T>
  /** show another view: `navigate('/event/' + digest)` */
  navigate: (path: string) => void
  /** the trust entry's name of a peer ID, or a shortened peer ID when the node has no entry for it */
  trustName: (peerId: string) => string
}

/** The hash link of a view path, for `<a href>`: `href('/event', digest)` is `#/event/<digest>`. */
export function href (base: string, ...parts: string[]): string {
  return '#' + base + parts.map(p => '/' + encodeURIComponent(p)).join('')
}

/**
 * A `match` for paths of a fixed prefix followed by named segments: `route('/event', 'digest')`
 * matches `/event/<digest>` and gives `{ digest }`.
 */
export function route (prefix: string, ...names: string[]): View['match'] {
  return path => {
    if (!path.startsWith(prefix)) return undefined
    const rest = path.slice(prefix.length)
    const segments = rest === '' ? [] : rest.slice(1).split('/')
    if ((rest !== '' && !rest.startsWith('/')) || segments.length !== names.length) return undefined
    const params: Record<string, string> = {}
    for (const [i, name] of names.entries()) {
      const segment = segments[i] as string
      if (segment === '') return undefined
      try {
        params[name] = decodeURIComponent(segment)
      } catch {
        return undefined
      }
    }
    return params
  }
}
