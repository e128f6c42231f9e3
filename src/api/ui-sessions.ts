import { createHash, randomBytes } from 'node:crypto'

/** How long a web page login lasts: a working day; after it, `cdgossip ui` prints a new link. */
export const SESSION_TTL_MS = 12 * 60 * 60 * 1000

/**
 * Most sessions held at once. Only the token's holder can open one, so this bounds memory
 * against a script looping over the login link, not against strangers; the oldest goes first.
 */
export const MAX_SESSIONS = 256

/**
 * The web page's logins: random ids held in memory only (a restart logs everyone out) and
 * looked up by their SHA-256, so the map's lookup time says nothing about a guessed id's
 * closeness to a real one. The cookie carries the id, never the API token.
 */
export class UiSessions {
  /** the cookie's name: random per API instance, so two nodes on one host keep their own logins */
  readonly cookieName = `cdgossip-session-${randomBytes(4).toString('hex')}`
  private readonly expiries = new Map<string, number>()

  constructor (private readonly now: () => number = Date.now) {}

  /** A new session; returns the id for the cookie. */
  open (): string {
    const id = randomBytes(32).toString('base64url')
    this.dropExpired()
    if (this.expiries.size >= MAX_SESSIONS) {
      const oldest = this.expiries.keys().next().value
      if (oldest !== undefined) this.expiries.delete(oldest)
    }
    this.expiries.set(hash(id), this.now() + SESSION_TTL_MS)
    return id
  }

  isOpen (id: string): boolean {
    const key = hash(id)
    const expiry = this.expiries.get(key)
    if (expiry === undefined) return false
    if (expiry <= this.now()) {
      this.expiries.delete(key)
      return false
    }
    return true
  }

  /** The session id in a Cookie header, if it names this instance's cookie. */
  idFrom (cookieHeader: string | undefined): string | undefined {
    if (cookieHeader === undefined) return undefined
    for (const pair of cookieHeader.split(';')) {
      const eq = pair.indexOf('=')
      if (eq > 0 && pair.slice(0, eq).trim() === this.cookieName) return pair.slice(eq + 1).trim()
    }
    return undefined
  }

  /** The Set-Cookie value: HttpOnly (scripts never see it), SameSite=Strict (no cross-site sends). */
  setCookie (id: string): string {
    return `${this.cookieName}=${id}; HttpOnly; SameSite=Strict; Path=/; Max-Age=${SESSION_TTL_MS / 1000}`
  }

  private dropExpired (): void {
    const now = this.now()
    for (const [key, expiry] of this.expiries) {
      if (expiry <= now) this.expiries.delete(key)
    }
  }
}

function hash (id: string): string {
  return createHash('sha256').update(id, 'utf8').digest('base64url')
}
