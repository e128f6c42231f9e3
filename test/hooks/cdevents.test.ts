import fs from 'node:fs'
import path from 'node:path'
import { fileURLToPath } from 'node:url'
import { describe, expect, it } from 'vitest'
import { InvalidRequestError } from '../../src/errors.js'
import { CDEVENTS_SPEC_VERSION, standardTypeOf } from '../../src/events/index.js'
import { cdevents, OLDER_TYPE_VERSIONS } from '../../src/hooks/kinds/cdevents.js'
import { bearer, content, delivery, eventsOf, fixtureBytes, fixtureJson } from './token-kinds-helpers.js'
import type { HookDelivery } from '../../src/hooks/types.js'

const SECRETS = { current: 'cdevents-current-token', previous: 'cdevents-previous-token' }
const settings = cdevents.parseSettings(undefined)
const DIR = path.join(path.dirname(fileURLToPath(import.meta.url)), 'fixtures', 'cdevents')
const OLDER = fs.readdirSync(DIR).filter(f => /^v0\.[34]-.*\.json$/.test(f)).sort()

function signed (name: string, extra: Record<string, string> = {}): HookDelivery {
  return delivery(fixtureBytes('cdevents', name), { authorization: bearer(SECRETS.current), 'content-type': 'application/json', ...extra })
}

describe('cdevents kind: authentication', () => {
  it('accepts the bearer token, current or previous, and nothing else', () => {
    const body = fixtureBytes('cdevents', 'v0.3-pipelinerun-finished.json')
    expect(cdevents.authenticate(delivery(body, { authorization: bearer(SECRETS.current) }), SECRETS, settings)).toBe(true)
    expect(cdevents.authenticate(delivery(body, { authorization: bearer(SECRETS.previous) }), SECRETS, settings)).toBe(true)
    expect(cdevents.authenticate(delivery(body, { authorization: bearer('forged') }), SECRETS, settings)).toBe(false)
    expect(cdevents.authenticate(delivery(body, { authorization: SECRETS.current }), SECRETS, settings)).toBe(false)
    expect(cdevents.authenticate(delivery(body), SECRETS, settings)).toBe(false)
    expect(cdevents.authenticate(delivery(body, { authorization: bearer(SECRETS.previous) }), { current: SECRETS.current }, settings)).toBe(false)
  })

  it('refuses settings it does not know', () => {
    expect(() => cdevents.parseSettings({ url: 'https://x.example' })).toThrow(InvalidRequestError)
  })
})

describe('cdevents kind: 0.3.x and 0.4.x upgraded to 0.5.1', () => {
  it('has a fixture for every subject', () => {
    const subjects = new Set(OLDER.map(f => /^v0\.[34]-([a-z]+)-/.exec(f)![1]))
    expect([...subjects].sort()).toEqual(['artifact', 'branch', 'build', 'change', 'environment', 'incident', 'pipelinerun',
      'repository', 'service', 'taskrun', 'testcaserun', 'testoutput', 'testsuiterun', 'ticket'])
  })

  it.each(OLDER)('%s becomes the same event in 0.5.1, schema-valid', (name) => {
    const original = fixtureJson('cdevents', name)
    const [event] = eventsOf(cdevents.translate(signed(name), settings))
    const cls = (original.context.type as string).split('.').slice(2, 4).join('.')
    expect(event!.context.specversion).toBe(CDEVENTS_SPEC_VERSION)
    expect(event!.context.type).toBe(standardTypeOf(cls))
    expect(OLDER_TYPE_VERSIONS[cls]).toContain((original.context.type as string).split('.').slice(4).join('.'))
    // the same event: id, source, time and subject kept
    expect(event!.context.id).toBe(original.context.id)
    expect(event!.context.source).toBe(original.context.source)
    expect(event!.context.timestamp).toBe(original.context.timestamp)
    expect(event!.subject.id).toBe(original.subject.id)
    expect(event!.subject.source).toBe(original.subject.source)
    expect(event!.subject).not.toHaveProperty('type')
    expect(event!.context).not.toHaveProperty('version')
  })

  it('renames url to uri and maps free-text and pass/fail outcomes', () => {
    const [run] = eventsOf(cdevents.translate(signed('v0.3-pipelinerun-finished.json'), settings))
    expect(content(run!)).toEqual({ pipelineName: 'myPipeline', uri: 'https://www.example.com/mySubject123', outcome: 'failure', errors: 'Something went wrong\nWith some more details' })
    const [env] = eventsOf(cdevents.translate(signed('v0.3-environment-created.json'), settings))
    expect(content(env!)).toEqual({ name: 'testEnv', uri: 'https://example.org/testEnv' })
    const [repo] = eventsOf(cdevents.translate(signed('v0.3-repository-created.json'), settings))
    expect(content(repo!).uri).toBe('https://example.org/TestOrg/TestRepo')
    expect(content(repo!).viewUrl).toBe('https://example.org/view/TestOrg/TestRepo')
    const [task] = eventsOf(cdevents.translate(signed('v0.3-taskrun-started.json'), settings))
    expect(content(task!)).toEqual({ taskName: 'myTask', uri: 'https://www.example.com/mySubject123', pipelineRun: { id: 'mySubject123' } })
    const [testCase] = eventsOf(cdevents.translate(signed('v0.3-testcaserun-finished.json'), settings))
    expect(content(testCase!).outcome).toBe('failure')
    const [suite] = eventsOf(cdevents.translate(signed('v0.3-testsuiterun-finished.json'), settings))
    expect(content(suite!).outcome).toBe('success')
  })

  it('keeps the 0.4 links, chainId and schemaUri', () => {
    const original = fixtureJson('cdevents', 'v0.4-change-created.json')
    const [event] = eventsOf(cdevents.translate(signed('v0.4-change-created.json'), settings))
    expect(event!.context.chainId).toBe(original.context.chainId)
    expect(event!.context.links).toEqual(original.context.links)
    expect((event!.context as unknown as Record<string, unknown>).schemaUri).toBe(original.context.schemaUri)
  })

  it('unwraps a structured-mode CloudEvent, keeping the CDEvent\'s own id and source', () => {
    const [event] = eventsOf(cdevents.translate(signed('cloudevent-structured-v0.3-pipelinerun-finished.json', { 'content-type': 'application/cloudevents+json' }), settings))
    const inner = fixtureJson('cdevents', 'v0.3-pipelinerun-finished.json')
    expect(event!.context.id).toBe(inner.context.id)
    expect(event!.context.source).toBe(inner.context.source)
    expect(event!.context.type).toBe(standardTypeOf('pipelinerun.finished'))
  })

  it('unwraps a structured CloudEvent whose data is base64 or JSON text', () => {
    const inner = fixtureJson('cdevents', 'v0.4-pipelinerun-started.json')
    for (const wrapped of [
      { specversion: '1.0', id: 'x', source: '/t', type: 'dev.cdevents.pipelinerun.started.0.2.0', data_base64: Buffer.from(JSON.stringify(inner)).toString('base64') },
      { specversion: '1.0', id: 'x', source: '/t', type: 'dev.cdevents.pipelinerun.started.0.2.0', data: JSON.stringify(inner) }
    ]) {
      const [event] = eventsOf(cdevents.translate(delivery(wrapped, { authorization: bearer(SECRETS.current) }), settings))
      expect(event!.context.id).toBe(inner.context.id)
      expect(content(event!)).toEqual({ pipelineName: 'myPipeline', uri: 'https://www.example.com/mySubject123' })
    }
  })

  it('reads a binary-mode CloudEvent (ce-* headers, the body the CDEvent)', () => {
    const d = signed('v0.4-pipelinerun-started.json', {
      'ce-specversion': '1.0', 'ce-id': 'transport-1', 'ce-source': '/t', 'ce-type': 'dev.cdevents.pipelinerun.started.0.2.0'
    })
    const [event] = eventsOf(cdevents.translate(d, settings))
    expect(event!.context.id).toBe(fixtureJson('cdevents', 'v0.4-pipelinerun-started.json').context.id)
  })

  it('gives identical output for a redelivery', () => {
    for (const name of OLDER) {
      expect(JSON.stringify(cdevents.translate(signed(name), settings))).toBe(JSON.stringify(cdevents.translate(signed(name), settings)))
    }
  })

  it('passes a 0.5.x event through unchanged', () => {
    const current = fixtureJson('cdevents', 'v0.4-pipelinerun-started.json')
    const [upgraded] = eventsOf(cdevents.translate(signed('v0.4-pipelinerun-started.json'), settings))
    const [again] = eventsOf(cdevents.translate(delivery(upgraded!, { authorization: bearer(SECRETS.current) }), settings))
    expect(again).toEqual(upgraded)
    expect(current.context.version).toBe('0.4.1')
  })
})

describe('cdevents kind: ignored and malformed', () => {
  it('ignores spec versions it does not upgrade and classes with no 0.5.1 equivalent', () => {
    const r = cdevents.translate(signed('v0.2-pipelinerun-started.json'), settings)
    expect(r).toEqual({ kind: 'ignored', reason: expect.stringContaining('0.2.0') })
    const unknown = fixtureJson('cdevents', 'v0.3-change-merged.json')
    unknown.context.type = 'dev.cdevents.testcase.started.0.1.0'
    expect(cdevents.translate(delivery(unknown), settings)).toEqual({ kind: 'ignored', reason: expect.stringContaining('testcase.started') })
    const wrongVersion = fixtureJson('cdevents', 'v0.3-change-merged.json')
    wrongVersion.context.type = 'dev.cdevents.change.merged.0.9.0'
    expect(cdevents.translate(delivery(wrongVersion), settings).kind).toBe('ignored')
  })

  it('refuses what is not a CDEvent, and an upgrade that is not valid 0.5.1, naming the field', () => {
    expect(() => cdevents.translate(delivery('not json'), settings)).toThrow(InvalidRequestError)
    expect(() => cdevents.translate(delivery({ hello: 'world' }), settings)).toThrow(/context/)
    const noType = fixtureJson('cdevents', 'v0.3-change-merged.json')
    delete noType.context.type
    expect(() => cdevents.translate(delivery(noType), settings)).toThrow(/context\.type/)
    const noUrl = fixtureJson('cdevents', 'v0.3-repository-created.json')
    delete noUrl.subject.content.url
    expect(() => cdevents.translate(delivery(noUrl), settings)).toThrow(/uri/)
    const badOutcome = fixtureJson('cdevents', 'v0.3-pipelinerun-finished.json')
    badOutcome.subject.content.outcome = 'sideways'
    expect(() => cdevents.translate(delivery(badOutcome), settings)).toThrow(/outcome/)
  })
})
