/**
 * `npm run demo` (scripts/demo.ts) run in-process: three real nodes, the REST calls the demo makes,
 * and what each community ends up holding.
 */
import fs from 'node:fs/promises'
import os from 'node:os'
import path from 'node:path'
import { Ajv2020 } from 'ajv/dist/2020.js'
import addFormatsModule from 'ajv-formats'
import { describe, expect, it, onTestFinished } from 'vitest'
import { EXIT_FAILED, EXIT_INTERRUPTED, main } from '../../scripts/demo.js'
import { CHAIN_ID_SHORT, demoPlan, runDemo } from '../../scripts/demo/index.js'
import type { CommunityName, DemoResult } from '../../scripts/demo/index.js'
import { artifactPublished, buildFinished, changeMerged, serviceDeployed, testSuiteRunFinished, testSuiteRunStarted } from '../../scripts/demo/flow.js'
import { loadOfficialSchemas, SKIP_REASON, SPEC_AVAILABLE } from '../events/cdevents-spec.js'

const addFormats = addFormatsModule.default

/** A parent for the demo's temp dir, so a test can see that the demo removed what it created. */
async function tmpParent (): Promise<string> {
  const dir = await fs.mkdtemp(path.join(os.tmpdir(), 'cdgossip-demo-test-'))
  onTestFinished(async () => { await fs.rm(dir, { recursive: true, force: true }) })
  return dir
}

function receivedBy (result: DemoResult, community: CommunityName): string[] {
  return result.received.filter(r => r.community === community).map(r => `${r.class} from ${r.from}`)
}

function contextIdOf (result: DemoResult, eventClass: string): string {
  const event = result.published.find(e => e.class === eventClass)
  if (event === undefined) throw new Error(`nothing published of ${eventClass}`)
  return event.contextId
}

describe('npm run demo', () => {
  it.skipIf(!SPEC_AVAILABLE)(`publishes CDEvents that the official v0.5.1 schemas accept, links included${SPEC_AVAILABLE ? '' : ` (${SKIP_REASON})`}`, () => {
    const official = loadOfficialSchemas()
    const ajv = new Ajv2020({ strict: false, allErrors: true })
    addFormats(ajv)
    for (const link of official.links) ajv.addSchema(link)
    const chainId = 'chain-1'
    const change = changeMerged(chainId)
    const build = buildFinished(chainId, change)
    const artifact = artifactPublished(chainId, build)
    const started = testSuiteRunStarted(chainId, artifact)
    const finished = testSuiteRunFinished(chainId, started)
    const deployed = serviceDeployed(chainId, finished)
    for (const event of [change, build, artifact, started, finished, deployed]) {
      const schema = official.events.get(event.context.type)
      expect(schema, event.context.type).toBeDefined()
      const validate = ajv.compile(schema as Record<string, unknown>)
      expect(validate(event) ? [] : validate.errors, event.context.type).toEqual([])
      expect(event.context.chainId).toBe(chainId)
    }
    expect(deployed.context.links).toContainEqual({ linkType: 'END', from: { contextId: finished.context.id } })
  })

  it('delivers the cross-community chain to exactly the communities that subscribed, prints it and cleans up', async () => {
    const parent = await tmpParent()
    const lines: string[] = []
    const result = await runDemo({ out: line => { lines.push(line) }, tmpParent: parent })

    expect(result.communities.map(c => c.name)).toEqual(['onap', 'opnfv', 'tekton'])
    expect(result.published.map(e => `${e.community} ${e.class}`)).toEqual([
      'onap change.merged',
      'onap build.finished',
      'onap artifact.published',
      'opnfv testsuiterun.started',
      'opnfv testsuiterun.finished',
      'tekton service.deployed'
    ])
    // subscriptions decide: opnfv never gets build.finished, onap never testsuiterun.started
    expect(receivedBy(result, 'onap')).toEqual(['testsuiterun.finished from opnfv', 'service.deployed from tekton'])
    expect(receivedBy(result, 'opnfv')).toEqual(['change.merged from onap', 'artifact.published from onap'])
    expect(receivedBy(result, 'tekton')).toEqual(['artifact.published from onap', 'testsuiterun.started from opnfv', 'testsuiterun.finished from opnfv'])

    // what arrived is what was published: same signed record, same chain
    const published = new Map(result.published.map(e => [e.digest, e]))
    for (const r of result.received) {
      expect(r.chainId).toBe(result.chainId)
      expect(published.get(r.digest)).toMatchObject({ community: r.from, class: r.class, subject: r.subject, contextId: r.contextId })
    }

    // the links tie each community's part to what triggered it, as the receivers hold them
    const artifactId = contextIdOf(result, 'artifact.published')
    const startedId = contextIdOf(result, 'testsuiterun.started')
    const finishedId = contextIdOf(result, 'testsuiterun.finished')
    const at = (community: CommunityName, eventClass: string): unknown[] | undefined =>
      result.received.find(r => r.community === community && r.class === eventClass)?.links
    expect(at('tekton', 'testsuiterun.started')).toEqual([
      { linkType: 'PATH', from: { contextId: artifactId } },
      { linkType: 'RELATION', linkKind: 'TRIGGER', target: { contextId: artifactId } }
    ])
    expect(at('onap', 'testsuiterun.finished')).toEqual([{ linkType: 'PATH', from: { contextId: startedId } }])
    expect(at('onap', 'service.deployed')).toEqual([
      { linkType: 'PATH', from: { contextId: finishedId } },
      { linkType: 'RELATION', linkKind: 'TRIGGER', target: { contextId: finishedId } },
      { linkType: 'END', from: { contextId: finishedId } }
    ])

    // the table: one row per received event with community, class, subject, origin and short chain
    const short = result.chainId.slice(0, CHAIN_ID_SHORT)
    expect(lines.some(l => /^\s*COMMUNITY\s+CLASS\s+SUBJECT\s+FROM\s+CHAIN$/.test(l))).toBe(true)
    for (const r of result.received) {
      const row = [r.community, r.class, r.subject, r.from, short].map(cell => cell.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')).join('\\s+')
      expect(lines.filter(l => new RegExp(`^\\s*${row}$`).test(l)), `a table row for ${r.community} ${r.class}`).toHaveLength(1)
    }

    // nodes stopped, data removed
    expect(await fs.readdir(parent)).toEqual([])
  })

  it('exits 1 with CDG_TIMEOUT naming what did not arrive when a community does not trust the publisher', async () => {
    const parent = await tmpParent()
    const plan = demoPlan()
    const opnfv = plan.find(p => p.name === 'opnfv')
    if (opnfv === undefined) throw new Error('no opnfv in the plan')
    opnfv.trusts = ['tekton']
    let stdout = ''
    let stderr = ''

    const code = await main(['--timeout', '4000'], { out: text => { stdout += text }, err: text => { stderr += text }, tmpParent: parent, communities: plan })

    expect(code).toBe(EXIT_FAILED)
    // opnfv refuses onap's artifact, so its test suite never starts
    expect(stdout).not.toContain('publishes testsuiterun.started')
    expect(stderr).toContain('(CDG_TIMEOUT)')
    expect(stderr).toContain('  - opnfv: artifact.published from onap\n')
    expect(await fs.readdir(parent)).toEqual([])
  })

  it('stops the nodes and removes the temp dir when interrupted', async () => {
    const parent = await tmpParent()
    const controller = new AbortController()
    let stdout = ''
    let stderr = ''

    const code = await main([], {
      out: text => {
        stdout += text
        // Ctrl-C once the nodes run and are connected
        if (text.startsWith('Connected')) controller.abort()
      },
      err: text => { stderr += text },
      signal: controller.signal,
      tmpParent: parent
    })

    expect(code).toBe(EXIT_INTERRUPTED)
    expect(stdout).not.toContain('The chain')
    expect(stderr).toContain('interrupted')
    expect(await fs.readdir(parent)).toEqual([])
  })

  it('refuses bad arguments without starting anything', async () => {
    let stderr = ''
    expect(await main(['--timeout', 'soon'], { out: () => {}, err: text => { stderr += text } })).toBe(EXIT_FAILED)
    expect(stderr).toContain('--timeout')
    expect(await main(['--bogus'], { out: () => {}, err: () => {} })).toBe(EXIT_FAILED)
  })
})
