import { createHash } from 'node:crypto'
import { describe, expect, it } from 'vitest'
import { gerrit } from '../../src/hooks/kinds/gerrit.js'
import { thrown } from '../helpers/errors.js'
import { bytes, delivery, fixtureBytes, fixtureJson, onlyEvent } from './forge-helpers.js'
import type { GerritSettings } from '../../src/hooks/kinds/gerrit.js'
import type { HookDelivery, Translation } from '../../src/hooks/types.js'

/** The gerrit kind against stream-events JSON written from Gerrit's documentation (fixtures/gerrit/README.md). */

const TOKEN = 'gerrit-test-token'
const PREVIOUS = 'gerrit-previous-token'
const SECRETS = { current: TOKEN, previous: PREVIOUS }
const SERVER = 'https://review.example.org'
const WITH_URL = gerrit.parseSettings({ url: `${SERVER}/` })
const NO_URL = gerrit.parseSettings(undefined)
const CHANGE = 'platform/build~main~I211fc292219ff771dcd3b5ce110ab18c44d64465'
const REPOSITORY = { repository: { id: 'platform/build', source: SERVER } }

function basic (user: string, password: string): string {
  return `Basic ${Buffer.from(`${user}:${password}`).toString('base64')}`
}

function sent (body: Uint8Array, authorization: string | null = `Bearer ${TOKEN}`): HookDelivery {
  return delivery({ 'Content-Type': 'application/json', ...(authorization === null ? {} : { Authorization: authorization }) }, body)
}

function translated (body: Uint8Array, settings: GerritSettings = WITH_URL): Translation {
  const d = sent(body)
  expect(gerrit.authenticate(d, SECRETS, settings)).toBe(true)
  return gerrit.translate(d, settings)
}

describe('gerrit source kind', () => {
  it('authenticates a bearer token or the password of basic credentials, current or previous, and nothing else', () => {
    const body = fixtureBytes('gerrit', 'patchset-created.json')
    const ok = (authorization: string | null): boolean => gerrit.authenticate(sent(body, authorization), SECRETS, WITH_URL)
    expect(ok(`Bearer ${TOKEN}`)).toBe(true)
    expect(ok(`bearer ${PREVIOUS}`)).toBe(true)
    expect(ok(basic('gerrit', TOKEN))).toBe(true)
    expect(ok(basic('webhooks', PREVIOUS))).toBe(true)
    expect(gerrit.authenticate(sent(body, `Bearer ${PREVIOUS}`), { current: TOKEN }, WITH_URL)).toBe(false)
    // with a user setting, Basic credentials must name that user too
    const withUser = gerrit.parseSettings({ url: SERVER, user: 'gerrit' })
    expect(gerrit.authenticate(sent(body, basic('gerrit', TOKEN)), SECRETS, withUser)).toBe(true)
    expect(gerrit.authenticate(sent(body, basic('mallory', TOKEN)), SECRETS, withUser)).toBe(false)
    expect(gerrit.authenticate(sent(body, `Bearer ${'x'.repeat(10_000)}`), SECRETS, WITH_URL)).toBe(false)
    expect(ok('Bearer forged')).toBe(false)
    expect(ok(basic('gerrit', 'forged'))).toBe(false)
    expect(ok(`Basic ${Buffer.from(TOKEN).toString('base64')}`)).toBe(false)
    expect(ok(TOKEN)).toBe(false)
    expect(ok(`Token ${TOKEN}`)).toBe(false)
    expect(ok('Bearer ')).toBe(false)
    expect(ok(null)).toBe(false)
  })

  it('maps the first patch set to change.created and later ones to change.updated', () => {
    const body = fixtureBytes('gerrit', 'patchset-created.json')
    const created = onlyEvent(translated(body))
    expect(created.context.type).toBe('dev.cdevents.change.created.0.4.0')
    expect(created.context.source).toBe(SERVER)
    expect(created.context.id).toBe(createHash('sha256').update(body).digest('hex'))
    expect(created.context.timestamp).toBe(new Date(1717416001 * 1000).toISOString())
    expect(created.subject.id).toBe(CHANGE)
    expect(created.subject.content).toEqual({ description: 'Generate release notes from CDEvents', ...REPOSITORY })

    const second = fixtureJson('gerrit', 'patchset-created.json')
    second.patchSet.number = 2
    second.patchSet.ref = 'refs/changes/34/1234/2'
    const updated = onlyEvent(translated(bytes(second)))
    expect(updated.context.type).toMatch(/^dev\.cdevents\.change\.updated\./)
    expect(updated.subject.id).toBe(CHANGE)
    expect(updated.subject.content).toEqual(REPOSITORY)
  })

  it('maps a comment with a vote change to change.reviewed, and ignores comments without one', () => {
    const reviewed = onlyEvent(translated(fixtureBytes('gerrit', 'comment-added-vote.json')))
    expect(reviewed.context.type).toMatch(/^dev\.cdevents\.change\.reviewed\./)
    expect(reviewed.subject.id).toBe(CHANGE)
    expect(reviewed.context.timestamp).toBe(new Date(1717423200 * 1000).toISOString())
    expect(reviewed.customData).toEqual({ approvals: [{ type: 'Code-Review', value: '2', oldValue: '0' }] })

    expect(translated(fixtureBytes('gerrit', 'comment-added-no-vote.json')))
      .toEqual({ kind: 'ignored', reason: 'gerrit: comment-added without a vote change has no mapping' })
    const noApprovals = fixtureJson('gerrit', 'comment-added-no-vote.json')
    delete noApprovals.approvals
    expect(translated(bytes(noApprovals))).toMatchObject({ kind: 'ignored' })
  })

  it('maps merged and abandoned changes', () => {
    const merged = onlyEvent(translated(fixtureBytes('gerrit', 'change-merged.json')))
    expect(merged.context.type).toMatch(/^dev\.cdevents\.change\.merged\./)
    expect(merged.subject.id).toBe(CHANGE)
    expect(merged.context.timestamp).toBe(new Date(1717426800 * 1000).toISOString())
    const abandoned = onlyEvent(translated(fixtureBytes('gerrit', 'change-abandoned.json')))
    expect(abandoned.context.type).toMatch(/^dev\.cdevents\.change\.abandoned\./)
    expect(abandoned.subject.content).toEqual(REPOSITORY)
  })

  it('maps branch creation and deletion, and ignores change refs, meta refs and ordinary pushes', () => {
    const created = onlyEvent(translated(fixtureBytes('gerrit', 'ref-updated-branch-created.json')))
    expect(created.context.type).toMatch(/^dev\.cdevents\.branch\.created\./)
    expect(created.subject.id).toBe('release-1.2')
    expect(created.subject.content).toEqual(REPOSITORY)
    expect(created.context.timestamp).toBe(new Date(1717437600 * 1000).toISOString())
    const deleted = onlyEvent(translated(fixtureBytes('gerrit', 'ref-updated-branch-deleted.json')))
    expect(deleted.context.type).toMatch(/^dev\.cdevents\.branch\.deleted\./)
    expect(deleted.subject.id).toBe('release-1.0')

    expect(translated(fixtureBytes('gerrit', 'ref-updated-change-meta.json')))
      .toEqual({ kind: 'ignored', reason: 'gerrit: ref-updated of "refs/changes/34/1234/meta" has no mapping (not a branch)' })
    expect(translated(fixtureBytes('gerrit', 'ref-updated-push.json'))).toMatchObject({ kind: 'ignored', reason: expect.stringContaining('push to an existing branch') })
    for (const refName of ['refs/meta/config', 'refs/tags/v1.0', 'refs/changes/34/1234/1']) {
      const payload = fixtureJson('gerrit', 'ref-updated-branch-created.json')
      payload.refUpdate.refName = refName
      expect(translated(bytes(payload))).toMatchObject({ kind: 'ignored', reason: expect.stringContaining('not a branch') })
    }
    // old Gerrit versions name branches without refs/heads/
    const short = fixtureJson('gerrit', 'ref-updated-branch-created.json')
    short.refUpdate.refName = 'stable'
    expect(onlyEvent(translated(bytes(short))).subject.id).toBe('stable')
  })

  it('derives the server URL from the change URL when no url is set, and needs the setting for branch events', () => {
    const fromChange = onlyEvent(translated(fixtureBytes('gerrit', 'change-merged.json'), NO_URL))
    expect(fromChange.context.source).toBe(SERVER)
    expect(fromChange.subject.content).toEqual(REPOSITORY)

    // older change URLs are the server URL and the change number, possibly under a context path
    const old = fixtureJson('gerrit', 'change-merged.json')
    old.change.url = 'http://gerrit.example.net:8080/r/1234'
    expect(onlyEvent(translated(bytes(old), NO_URL)).context.source).toBe('http://gerrit.example.net:8080/r')

    expect(thrown(() => gerrit.translate(sent(fixtureBytes('gerrit', 'ref-updated-branch-created.json')), NO_URL)))
      .toMatchObject({ code: 'CDG_INVALID_REQUEST', message: expect.stringContaining('url setting') })
  })

  it('ignores unmapped events and refuses malformed mapped ones, naming the field', () => {
    expect(translated(fixtureBytes('gerrit', 'change-restored.json'))).toEqual({ kind: 'ignored', reason: 'gerrit: event "change-restored" has no mapping' })

    const noChangeId = fixtureJson('gerrit', 'change-merged.json')
    delete noChangeId.change.id
    expect(thrown(() => gerrit.translate(sent(bytes(noChangeId)), WITH_URL)).message).toContain('change.id')
    const noPatchSet = fixtureJson('gerrit', 'patchset-created.json')
    delete noPatchSet.patchSet
    expect(thrown(() => gerrit.translate(sent(bytes(noPatchSet)), WITH_URL)).message).toContain('patchSet.number')
    const noTime = fixtureJson('gerrit', 'ref-updated-branch-created.json')
    delete noTime.eventCreatedOn
    expect(thrown(() => gerrit.translate(sent(bytes(noTime)), WITH_URL)).message).toContain('eventCreatedOn')
    expect(thrown(() => gerrit.translate(sent(bytes({ change: {} })), WITH_URL)).message).toContain('type')
    expect(thrown(() => gerrit.translate(sent(bytes('not json')), WITH_URL)).code).toBe('CDG_INVALID_REQUEST')
  })

  it('gives a redelivery identical bytes', () => {
    const body = fixtureBytes('gerrit', 'comment-added-vote.json')
    expect(JSON.stringify(translated(Buffer.from(body)))).toBe(JSON.stringify(translated(Buffer.from(body))))
  })

  it('validates its url setting', () => {
    expect(gerrit.parseSettings({ url: 'https://review.example.org//' })).toEqual({ url: 'https://review.example.org' })
    expect(gerrit.parseSettings({})).toEqual({})
    expect(thrown(() => gerrit.parseSettings({ url: 'ftp://x' })).message).toContain('url')
    expect(thrown(() => gerrit.parseSettings({ url: 42 })).message).toContain('url')
    expect(thrown(() => gerrit.parseSettings({ url: 'https://admin:pw@review.example.org' })).message).toContain('credentials')
    expect(thrown(() => gerrit.parseSettings({ server: SERVER })).message).toContain('unknown setting "server"')
    expect(gerrit.parseSettings({ user: 'gerrit' })).toEqual({ user: 'gerrit' })
    expect(thrown(() => gerrit.parseSettings({ user: '' })).message).toContain('user')
  })
})
