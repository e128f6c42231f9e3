/** A failed API request, with the node's stable error code (`CDG_NOT_FOUND`, …) when it sent one. */
export class ApiError extends Error {
  constructor (readonly status: number, readonly code: string, message: string) {
    super(message)
    this.name = 'ApiError'
  }
}

/**
 * GET a node API path with the session cookie (same origin only). The cookie can only read, so
 * the page has no way to change state and this helper has no other method.
 */
export async function apiGet<T> (path: string): Promise<T> {
  const response = await fetch(path, { credentials: 'same-origin', headers: { accept: 'application/json' } })
  const text = await response.text()
  let body: unknown
  try {
    body = text === '' ? undefined : JSON.parse(text)
  } catch {
    body = undefined
  }
  if (response.status === 401) {
    // the session ended (expiry, node restart): the page without one says how to log in again
    location.reload()
  }
  if (!response.ok) {
    const error = body as { code?: unknown, message?: unknown } | undefined
    const code = typeof error?.code === 'string' ? error.code : 'CDG_INTERNAL'
    const message = typeof error?.message === 'string' ? error.message : `${response.status} ${response.statusText}`
    throw new ApiError(response.status, code, message)
  }
  return body as T
}
