/**
 * The routes of the graph and artifact views: `/<name>/<one path segment>`, then optional query
 * settings (`/trace/<digest>?direction=up&depth=2&resolve=true`), so a view's state is a link.
 */

/** Params of `path` when it is `/<name>/<segment>[?query]`; the segment decoded, under `key`. */
export function matchSegment (path: string, name: string, key: string): Record<string, string> | undefined {
  const q = path.indexOf('?')
  const bare = q < 0 ? path : path.slice(0, q)
  const prefix = `/${name}/`
  if (!bare.startsWith(prefix)) return undefined
  const segment = bare.slice(prefix.length)
  if (segment === '' || segment.includes('/')) return undefined
  let value: string
  try {
    value = decodeURIComponent(segment)
  } catch {
    return undefined
  }
  const params: Record<string, string> = {}
  for (const [k, v] of new URLSearchParams(q < 0 ? '' : path.slice(q + 1))) params[k] = v
  params[key] = value
  return params
}

/** The path of `/<name>/<value>` with `settings` as its query (undefined ones left out). */
export function segmentPath (name: string, value: string, settings: Record<string, string | undefined> = {}): string {
  const query = new URLSearchParams()
  for (const [k, v] of Object.entries(settings)) if (v !== undefined) query.set(k, v)
  const qs = query.toString()
  return `/${name}/${encodeURIComponent(value)}${qs === '' ? '' : `?${qs}`}`
}
