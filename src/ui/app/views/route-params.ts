import { href, route } from '../view.js'
import type { View } from '../view.js'

/**
 * Routes whose view has settings: `/trace/<digest>?direction=up&depth=2&resolve=true`. The
 * settings ride in the hash's query, so what a person sees is a link they can share.
 */

/** `route(prefix, name)` that also reads the settings after a `?`; the path's own param wins over a setting of its name. */
export function routeWithSettings (prefix: string, name: string): View['match'] {
  const match = route(prefix, name)
  return path => {
    const q = path.indexOf('?')
    const params = match(q < 0 ? path : path.slice(0, q))
    if (params === undefined) return undefined
    return { ...Object.fromEntries(new URLSearchParams(q < 0 ? '' : path.slice(q + 1))), ...params }
  }
}

/** `path` with `settings` as its query, undefined ones left out: for view paths and API paths alike. */
export function withSettings (path: string, settings: Record<string, string | undefined>): string {
  const query = new URLSearchParams()
  for (const [k, v] of Object.entries(settings)) if (v !== undefined) query.set(k, v)
  const qs = query.toString()
  return qs === '' ? path : `${path}?${qs}`
}

/** The view path (for navigate; `#` before it for a link) of `prefix/value` with `settings`. */
export function pathWithSettings (prefix: string, value: string, settings: Record<string, string | undefined> = {}): string {
  return withSettings(href(prefix, value).slice(1), settings)
}
