import { describe, expect, it } from 'vitest'
import { MAX_SESSIONS, SESSION_TTL_MS, UiSessions } from '../../src/api/ui-sessions.js'

describe('web page sessions', () => {
  it('a session lasts SESSION_TTL_MS, then is gone', () => {
    let now = 1_000_000
    const sessions = new UiSessions(() => now)
    const id = sessions.open()
    now += SESSION_TTL_MS - 1
    expect(sessions.isOpen(id)).toBe(true)
    now += 1
    expect(sessions.isOpen(id)).toBe(false)
  })

  it('holds at most MAX_SESSIONS, dropping the oldest', () => {
    const sessions = new UiSessions()
    const first = sessions.open()
    const second = sessions.open()
    for (let i = 2; i < MAX_SESSIONS; i++) sessions.open()
    expect(sessions.isOpen(first)).toBe(true)
    const newest = sessions.open()
    expect(sessions.isOpen(first)).toBe(false)
    expect(sessions.isOpen(second)).toBe(true)
    expect(sessions.isOpen(newest)).toBe(true)
  })

  it('reads its own cookie out of a Cookie header and nothing else', () => {
    const sessions = new UiSessions()
    const id = sessions.open()
    const name = sessions.cookieName
    expect(sessions.idFrom(`other=1; ${name}=${id}; x=y`)).toBe(id)
    expect(sessions.idFrom(`${name}x=${id}`)).toBeUndefined()
    expect(sessions.idFrom(undefined)).toBeUndefined()
    expect(sessions.setCookie(id)).toBe(`${name}=${id}; HttpOnly; SameSite=Strict; Path=/; Max-Age=${SESSION_TTL_MS / 1000}`)
    expect(new UiSessions().cookieName).not.toBe(name)
  })
})
