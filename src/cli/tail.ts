import type { ApiClient } from './client.js'
import type { EventView } from '../events/event-view.js'

/** Wait before reconnecting after the stream ends or fails; grows to RECONNECT_MAX_MS. */
const RECONNECT_MIN_MS = 500
const RECONNECT_MAX_MS = 10_000

/**
 * Follows GET /v1/stream, resuming with Last-Event-ID after every disconnect (node restarts,
 * overflow drops), so nothing is missed and nothing repeated. Ends when `signal` aborts.
 * `query` may hold `last` (start with the last N stored events; the node ignores it on a resume).
 * `api` may be a function called before every connection: a restarted node may listen on
 * another port (api-url in the data dir), and the tail must follow it there.
 * Once connected, a node that is down, starting or stopping (5xx) is retried; any other refusal
 * (401, a bad filter), or failing to reach the node the first time, ends the tail with that error.
 */
export async function tailEvents (api: ApiClient | (() => Promise<ApiClient>), query: URLSearchParams, signal: AbortSignal, onEvent: (e: EventView) => void): Promise<void> {
  let lastId: string | undefined = query.get('cursor') ?? undefined
  query.delete('cursor')
  let delay = RECONNECT_MIN_MS
  let connected = false
  while (!signal.aborted) {
    try {
      const client = typeof api === 'function' ? await api() : api
      const res = await client.stream(`/v1/stream?${query.toString()}`, lastId, signal)
      connected = true
      delay = RECONNECT_MIN_MS
      for await (const frame of sseFrames(res, signal)) {
        if (frame.event === 'cdevent' && frame.data !== undefined) onEvent(JSON.parse(frame.data) as EventView)
        // an id-only frame (`last=N`) says where the stream starts: resume there after a disconnect
        if (frame.id !== undefined && (frame.event === 'cdevent' || frame.data === undefined)) lastId = frame.id
      }
    } catch (err) {
      if (signal.aborted) return
      // a node never reached is a mistake to report (not started, wrong data dir), not a
      // disconnect to ride out
      if (!connected) throw err
      const status = (err as { statusCode?: number }).statusCode
      if (status !== undefined && status < 500) throw err
    }
    await new Promise<void>(resolve => {
      // removed when the timer fires: a long tail reconnects many times and must not pile up listeners
      const onAbort = (): void => { clearTimeout(t); resolve() }
      const t = setTimeout(() => { signal.removeEventListener('abort', onAbort); resolve() }, delay)
      signal.addEventListener('abort', onAbort, { once: true })
    })
    delay = Math.min(delay * 2, RECONNECT_MAX_MS)
  }
}

interface SseFrame { id?: string, event?: string, data?: string }

/** Minimal SSE parser (text/event-stream): frames separated by a blank line. */
export async function * sseFrames (res: Response, signal: AbortSignal): AsyncGenerator<SseFrame> {
  if (res.body === null) return
  const decoder = new TextDecoder()
  let buffer = ''
  const reader = res.body.getReader()
  const cancel = (): void => { void reader.cancel().catch(() => {}) }
  signal.addEventListener('abort', cancel, { once: true })
  try {
    for (;;) {
      const { value, done } = await reader.read()
      if (done) return
      buffer += decoder.decode(value, { stream: true })
      let sep: number
      while ((sep = buffer.indexOf('\n\n')) !== -1) {
        const block = buffer.slice(0, sep)
        buffer = buffer.slice(sep + 2)
        const frame: SseFrame = {}
        for (const line of block.split('\n')) {
          if (line.startsWith(':')) continue
          const colon = line.indexOf(':')
          const field = colon === -1 ? line : line.slice(0, colon)
          const value = colon === -1 ? '' : line.slice(colon + 1).replace(/^ /, '')
          if (field === 'id') frame.id = value
          else if (field === 'event') frame.event = value
          else if (field === 'data') frame.data = frame.data === undefined ? value : frame.data + '\n' + value
        }
        if (frame.data !== undefined || frame.event !== undefined || frame.id !== undefined) yield frame
      }
    }
  } finally {
    signal.removeEventListener('abort', cancel)
  }
}
