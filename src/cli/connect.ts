import { resolveDataDir } from '../config.js'
import { readApiUrl } from '../data-dir.js'
import { apiUrlsOption, str } from './args.js'
import { resolveClient } from './client.js'
import type { ApiClient } from './client.js'

/** The client for a command's node (or nodes): --api-url.../CDGOSSIP_API_URL and --token, else the data dir's files. */
export async function client (values: Record<string, unknown>): Promise<ApiClient> {
  const dataDir = resolveDataDir({ dataDir: str(values['data-dir']) })
  return await resolveClient({ dataDir, apiUrl: apiUrlsOption(values), token: str(values.token) })
}

/**
 * For long-lived commands (tail): a client per connection. A node found through the data dir
 * may come back on another port after a restart, so its api-url is read again each time; while
 * the file is absent (node down) the last known URL is tried.
 */
export async function followingClient (values: Record<string, unknown>): Promise<() => Promise<ApiClient>> {
  const first = await client(values)
  if (apiUrlsOption(values) !== undefined) return async () => first
  const dataDir = resolveDataDir({ dataDir: str(values['data-dir']) })
  let current = first
  return async () => {
    const url = await readApiUrl(dataDir)
    if (url !== undefined && url !== current.baseUrl) current = await resolveClient({ dataDir, apiUrl: url, token: str(values.token) })
    return current
  }
}
