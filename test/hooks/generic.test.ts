import { createHmac } from 'node:crypto'
import { describe, expect, it } from 'vitest'
import { InvalidRequestError } from '../../src/errors.js'
import { standardTypeOf } from '../../src/events/index.js'
import { contentHash } from '../../src/hooks/common.js'
import { generic, MAX_CONTENT_FIELDS } from '../../src/hooks/kinds/generic.js'
import { bearer, content, delivery, eventsOf, fixtureBytes } from './token-kinds-helpers.js'
import type { HookDelivery } from '../../src/hooks/types.js'

const SECRETS = { current: 'generic-current', previous: 'generic-previous' }

/** Tekton Pipelines' CloudEvents (binary mode) → pipelinerun events. */
const TEKTON = {
  when: '$contains(headers."ce-type", ".pipelinerun.")',
  type: `(
    $t := headers."ce-type";
    $t in ["dev.tekton.event.pipelinerun.successful.v1", "dev.tekton.event.pipelinerun.failed.v1"] ? "pipelinerun.finished"
      : $t = "dev.tekton.event.pipelinerun.started.v1" ? "pipelinerun.started" : "pipelinerun.queued"
  )`,
  id: 'headers."ce-id"',
  source: '"https://tekton.example.org"',
  timestamp: 'headers."ce-time"',
  subjectId: 'body.pipelineRun.metadata.namespace & "/" & body.pipelineRun.metadata.name',
  content: {
    pipelineName: 'body.pipelineRun.spec.pipelineRef.name',
    uri: '"https://tekton.example.org/#/namespaces/" & body.pipelineRun.metadata.namespace & "/pipelineruns/" & body.pipelineRun.metadata.name',
    outcome: '$lookup({"Succeeded": "success", "Completed": "success", "Failed": "failure", "Cancelled": "cancel"}, body.pipelineRun.status.conditions[type = "Succeeded"].reason)',
    errors: 'body.pipelineRun.status.conditions[type = "Succeeded" and status = "False"].message'
  }
}

/** An Argo CD Notifications webhook → service.deployed, signed by HMAC in a header. */
const ARGOCD = {
  type: 'service.deployed',
  when: 'body.syncStatus = "Synced" and body.healthStatus = "Healthy"',
  source: '"https://argocd.example.org"',
  timestamp: 'body.finishedAt',
  subjectId: 'body.app',
  content: {
    environment: '{ "id": body.destination.namespace, "source": body.destination.server }',
    artifactId: '(\n  $i := body.images[0];\n  "pkg:docker/" & $substringBefore($substringAfter($i, "/"), ":") & "@" & $substringAfter($i, ":") & "?repository_url=" & $substringBefore($i, "/")\n)'
  },
  customData: '{ "revision": body.revision, "url": body.url }',
  auth: { type: 'hmac', header: 'X-Signature', algorithm: 'sha256', prefix: 'sha256=' }
}

function tekton (name: string, ceType: string, id = 'a8f1c2d3-0001'): HookDelivery {
  return delivery(fixtureBytes('generic', name), {
    authorization: bearer(SECRETS.current),
    'content-type': 'application/json',
    'ce-specversion': '1.0',
    'ce-id': id,
    'ce-source': '/apis/tekton.dev/v1/namespaces/ci/pipelineruns/release-train-run-x7k2p',
    'ce-type': ceType,
    'ce-time': '2026-11-30T09:26:41.120Z'
  })
}

function argocd (secret = SECRETS.current): HookDelivery {
  const body = fixtureBytes('generic', 'argocd-app-sync-succeeded.json')
  return delivery(body, { 'content-type': 'application/json', 'x-signature': `sha256=${createHmac('sha256', secret).update(body).digest('hex')}` })
}

describe('generic kind: settings', () => {
  it('compiles every expression at load and names the field of a syntax error', () => {
    expect(() => generic.parseSettings({ ...TEKTON, subjectId: 'body.pipelineRun.(' })).toThrow(/"subjectId" is not a valid JSONata expression/)
    expect(() => generic.parseSettings({ ...TEKTON, content: { uri: '"a" & ' } })).toThrow(/"content\.uri"/)
    expect(() => generic.parseSettings({ ...TEKTON, type: '' })).toThrow(InvalidRequestError)
  })

  it('requires the fields every event needs and refuses unknown ones', () => {
    const { timestamp, ...noTime } = TEKTON
    expect(timestamp).toBeDefined()
    expect(() => generic.parseSettings(noTime)).toThrow(/"timestamp" is required/)
    expect(() => generic.parseSettings({ ...TEKTON, subjectID: 'x' })).toThrow(/unknown field "subjectID"/)
    const many = Object.fromEntries(Array.from({ length: MAX_CONTENT_FIELDS + 1 }, (_, i) => [`f${i}`, '1']))
    expect(() => generic.parseSettings({ ...TEKTON, content: many })).toThrow(/more than/)
  })

  it('refuses clock and random functions: a translation must be repeatable', () => {
    expect(() => generic.parseSettings({ ...TEKTON, timestamp: '$now()' })).toThrow(/\$now\(\)/)
    expect(() => generic.parseSettings({ ...TEKTON, id: '$string($random())' })).toThrow(/\$random\(\)/)
    expect(() => generic.parseSettings({ ...TEKTON, content: { uri: '$string($millis())' } })).toThrow(/\$millis\(\)/)
  })

  it('checks the auth setting', () => {
    expect(() => generic.parseSettings({ ...ARGOCD, auth: { type: 'hmac', header: 'X-Signature', algorithm: 'md5' } })).toThrow(/algorithm/)
    expect(() => generic.parseSettings({ ...ARGOCD, auth: { type: 'hmac', header: 'bad header', algorithm: 'sha1' } })).toThrow(/auth\.header/)
    expect(() => generic.parseSettings({ ...ARGOCD, auth: { type: 'basic' } })).toThrow(/auth\.type/)
  })
})

describe('generic kind: authentication', () => {
  it('bearer by default: current or previous token', () => {
    const settings = generic.parseSettings(TEKTON)
    const d = tekton('tekton-pipelinerun-successful.json', 'dev.tekton.event.pipelinerun.successful.v1')
    expect(generic.authenticate(d, SECRETS, settings)).toBe(true)
    expect(generic.authenticate({ ...d, headers: { ...d.headers, authorization: bearer(SECRETS.previous) } }, SECRETS, settings)).toBe(true)
    expect(generic.authenticate({ ...d, headers: { ...d.headers, authorization: bearer('forged') } }, SECRETS, settings)).toBe(false)
    expect(generic.authenticate({ ...d, headers: { ...d.headers, authorization: undefined } }, SECRETS, settings)).toBe(false)
  })

  it('or an HMAC of the body in the configured header, after its prefix', () => {
    const settings = generic.parseSettings(ARGOCD)
    expect(generic.authenticate(argocd(), SECRETS, settings)).toBe(true)
    expect(generic.authenticate(argocd(SECRETS.previous), SECRETS, settings)).toBe(true)
    expect(generic.authenticate(argocd('forged'), SECRETS, settings)).toBe(false)
    const unprefixed = argocd()
    const hex = unprefixed.headers['x-signature']!.slice('sha256='.length)
    expect(generic.authenticate({ ...unprefixed, headers: { ...unprefixed.headers, 'x-signature': hex } }, SECRETS, settings)).toBe(false)
    expect(generic.authenticate({ ...unprefixed, headers: { 'content-type': 'application/json' } }, SECRETS, settings)).toBe(false)
  })
})

describe('generic kind: translation', () => {
  const settings = generic.parseSettings(TEKTON)

  it('maps Tekton PipelineRun CloudEvents to pipelinerun events', async () => {
    const [finished] = eventsOf(await generic.translate(tekton('tekton-pipelinerun-successful.json', 'dev.tekton.event.pipelinerun.successful.v1'), settings))
    expect(finished!.context).toMatchObject({ type: standardTypeOf('pipelinerun.finished'), id: 'a8f1c2d3-0001', source: 'https://tekton.example.org', timestamp: '2026-11-30T09:26:41.120Z' })
    expect(finished!.subject.id).toBe('ci/release-train-run-x7k2p')
    expect(content(finished!)).toEqual({
      pipelineName: 'release-train',
      uri: 'https://tekton.example.org/#/namespaces/ci/pipelineruns/release-train-run-x7k2p',
      outcome: 'success'
    })
    const [failed] = eventsOf(await generic.translate(tekton('tekton-pipelinerun-failed.json', 'dev.tekton.event.pipelinerun.failed.v1'), settings))
    expect(content(failed!)).toMatchObject({ outcome: 'failure', errors: 'Tasks Completed: 3 (Failed: 1, Cancelled 0), Skipped: 0' })
    const [started] = eventsOf(await generic.translate(tekton('tekton-pipelinerun-running.json', 'dev.tekton.event.pipelinerun.started.v1'), settings))
    expect(started!.context.type).toBe(standardTypeOf('pipelinerun.started'))
    expect(content(started!)).not.toHaveProperty('outcome')
  })

  it('maps an Argo CD sync to service.deployed, with customData', async () => {
    const argo = generic.parseSettings(ARGOCD)
    const d = argocd()
    const [event] = eventsOf(await generic.translate(d, argo))
    expect(event!.context).toMatchObject({ type: standardTypeOf('service.deployed'), id: contentHash(d), timestamp: '2026-11-30T10:41:00.000Z' })
    expect(event!.subject.id).toBe('guestbook')
    expect(content(event!)).toEqual({
      environment: { id: 'production', source: 'https://kubernetes.default.svc' },
      artifactId: 'pkg:docker/example/guestbook@v2.4.0?repository_url=ghcr.io'
    })
    expect(event!.customData).toEqual({ revision: '9fceb02d0ae598e95dc970b74767f19372d61af8', url: 'https://argocd.example.org/applications/guestbook' })
  })

  it('ignores a delivery whose "when" is false or gives nothing', async () => {
    expect(await generic.translate(tekton('tekton-pipelinerun-successful.json', 'dev.tekton.event.taskrun.successful.v1'), settings))
      .toEqual({ kind: 'ignored', reason: expect.stringContaining('"when"') })
    const degraded = JSON.parse(Buffer.from(fixtureBytes('generic', 'argocd-app-sync-succeeded.json')).toString('utf8')) as Record<string, unknown>
    degraded.healthStatus = 'Degraded'
    expect((await generic.translate(delivery(degraded), generic.parseSettings(ARGOCD))).kind).toBe('ignored')
    delete degraded.healthStatus
    expect((await generic.translate(delivery(degraded), generic.parseSettings(ARGOCD))).kind).toBe('ignored')
  })

  it('never lets a mapping copy the credential headers into an event', async () => {
    const leaky = generic.parseSettings({ ...TEKTON, customData: 'headers' })
    const [event] = eventsOf(await generic.translate(tekton('tekton-pipelinerun-successful.json', 'dev.tekton.event.pipelinerun.successful.v1'), leaky))
    expect(event!.customData).toMatchObject({ 'ce-id': 'a8f1c2d3-0001' })
    expect(event!.customData).not.toHaveProperty('authorization')
    const argo = generic.parseSettings({ ...ARGOCD, customData: 'headers' })
    const [deployed] = eventsOf(await generic.translate(argocd(), argo))
    expect(deployed!.customData).toEqual({ 'content-type': 'application/json' })
  })

  it('gives identical output for a redelivery', async () => {
    const d = (): HookDelivery => tekton('tekton-pipelinerun-successful.json', 'dev.tekton.event.pipelinerun.successful.v1')
    expect(JSON.stringify(await generic.translate(d(), settings))).toBe(JSON.stringify(await generic.translate(d(), settings)))
  })

  it('refuses a payload the mapping cannot fill, naming the field', async () => {
    const noTime = tekton('tekton-pipelinerun-successful.json', 'dev.tekton.event.pipelinerun.successful.v1')
    await expect(generic.translate({ ...noTime, headers: { ...noTime.headers, 'ce-time': undefined } }, settings)).rejects.toThrow(/"timestamp"/)
    const byUid = generic.parseSettings({ ...TEKTON, subjectId: 'body.pipelineRun.metadata.uid' })
    await expect(generic.translate({ ...noTime, body: new TextEncoder().encode('{"pipelineRun": {}}') }, byUid)).rejects.toThrow(/"subjectId"/)
    await expect(generic.translate({ ...noTime, body: new TextEncoder().encode('not json') }, settings)).rejects.toThrow(InvalidRequestError)
    const badType = generic.parseSettings({ ...TEKTON, type: '"pipelinerun.exploded"' })
    await expect(generic.translate(noTime, badType)).rejects.toThrow(/not a CDEvents 0\.5\.1 class/)
    // the schema still applies: an outcome outside the enum is refused
    const badOutcome = generic.parseSettings({ ...TEKTON, content: { ...TEKTON.content, outcome: '"sideways"' } })
    await expect(generic.translate(noTime, badOutcome)).rejects.toThrow(/outcome/)
  })

  it('stops a runaway expression (endless recursion, huge sequences) with a 400', async () => {
    const d = tekton('tekton-pipelinerun-successful.json', 'dev.tekton.event.pipelinerun.successful.v1')
    const recursion = generic.parseSettings({ ...TEKTON, content: { pipelineName: '($f := function($n) { $n + $f($n) }; $f(1))' } })
    await expect(generic.translate(d, recursion)).rejects.toThrow(/D1011|D1012/)
    const loop = generic.parseSettings({ ...TEKTON, content: { pipelineName: '($f := function($n) { $f($n + 1) }; $f(1))' } })
    await expect(generic.translate(d, loop)).rejects.toThrow(/D1011|D1012/)
    const huge = generic.parseSettings({ ...TEKTON, content: { pipelineName: '$string($count([1..5000000].($ * 2)))' } })
    await expect(generic.translate(d, huge)).rejects.toThrow(InvalidRequestError)
  })
})
