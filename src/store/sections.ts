import { InvalidRequestError } from '../errors.js'
import { asStoreError, levelCall } from './errors.js'
import { SCAN_CHUNK, noop } from './layout.js'
import type { Opened, Sub } from './layout.js'
import type { StateSection } from './types.js'

/** State sections: small typed JSON key/value stores other components keep in the store's LevelDB. */

/** Longest key of a state section entry. */
export const MAX_SECTION_KEY_LENGTH = 1024
const SECTION_NAME_RE = /^[a-z](?:[a-z-]{0,62}[a-z])?$/

/**
 * A typed JSON key/value section for another component's state. The handle may be taken before
 * start(); each call uses the store as it is when called.
 */
export function stateSection<T> (opened: Opened, name: string): StateSection<T> {
  if (typeof name !== 'string' || !SECTION_NAME_RE.test(name)) {
    throw new InvalidRequestError('section names are lowercase letters and dashes', { name: String(name).slice(0, 64) })
  }
  const sub = (): Sub<T> => {
    const st = opened()
    let s = st.sections.get(name)
    if (s === undefined) {
      s = st.db.sublevel<string, unknown>(['section', name], { keyEncoding: 'utf8', valueEncoding: 'json' })
      st.sections.set(name, s)
    }
    return s as Sub<T>
  }
  return {
    get: async (key: string): Promise<T | undefined> => {
      checkSectionKey(key)
      const s = sub()
      return levelCall('section get', async () => s.get(key))
    },
    put: async (key: string, value: T): Promise<void> => {
      checkSectionKey(key)
      const s = sub()
      await levelCall('section put', async () => s.put(key, value))
    },
    del: async (key: string): Promise<void> => {
      checkSectionKey(key)
      const s = sub()
      await levelCall('section del', async () => s.del(key))
    },
    entries: (): AsyncIterable<[string, T]> => sectionEntries(sub)
  }
}

async function * sectionEntries<T> (sub: () => Sub<T>): AsyncGenerator<[string, T]> {
  const s = sub()
  const it = s.iterator()
  try {
    while (true) {
      let entries: Array<[string, T]>
      try {
        entries = await it.nextv(SCAN_CHUNK)
      } catch (err) {
        throw asStoreError('section read', err)
      }
      if (entries.length === 0) return
      yield * entries
    }
  } finally {
    await it.close().catch(noop)
  }
}

function checkSectionKey (key: unknown): asserts key is string {
  if (typeof key !== 'string' || key.length === 0 || key.length > MAX_SECTION_KEY_LENGTH) {
    throw new InvalidRequestError(`section keys are strings of 1 to ${MAX_SECTION_KEY_LENGTH} characters`)
  }
}
