import { randomUUID } from 'node:crypto'
import type { CDEvent } from '../../src/events/types.js'

/**
 * A release crossing two communities, as CDEvents 0.5.1 with links: at A a change is merged, a
 * build produces an artifact (PATH links, and the build's artifactId), A's own tests run against
 * the artifact (a RELATION link); at B one test run names the artifact only by
 * `customData.artifactId`, a later one links it explicitly. Every event shares one chainId.
 */
export interface LinkedRelease {
  chainId: string
  purl: string
  change: CDEvent
  build: CDEvent
  artifact: CDEvent
  testA: CDEvent
  testBFailed: CDEvent
  testBPassed: CDEvent
  /** A's deployment of the artifact, named by its artifactId only */
  deploy: CDEvent
}

export const A_SOURCE = 'https://ci.alpha.example/jenkins'
export const B_SOURCE = 'https://qa.beta.example/tests'

function ctx (type: string, source: string, chainId: string, minute: number, links?: unknown[]): CDEvent['context'] {
  return {
    specversion: '0.5.1',
    id: randomUUID(),
    source,
    type,
    chainId,
    // in order, and after a subscription created now starts (it keeps events from its creation on)
    timestamp: new Date(Date.now() + 1000 + minute * 1000).toISOString(),
    ...(links === undefined ? {} : { links })
  }
}

function testRun (source: string, chainId: string, minute: number, suite: string, outcome: string, links?: unknown[]): CDEvent {
  const context = ctx('dev.cdevents.testsuiterun.finished.0.3.0', source, chainId, minute, links)
  return {
    context,
    subject: {
      id: `run-${context.id}`,
      source,
      content: { environment: { id: 'qa', source }, testSuite: { id: suite, name: suite }, outcome }
    }
  }
}

export function linkedRelease (): LinkedRelease {
  const chainId = randomUUID()
  const purl = `pkg:oci/app-${chainId.slice(0, 8)}@sha256%3A${'a'.repeat(64)}`
  const change: CDEvent = {
    context: ctx('dev.cdevents.change.merged.0.3.0', `${A_SOURCE}/scm`, chainId, 0),
    subject: { id: `change-${chainId.slice(0, 8)}`, source: `${A_SOURCE}/scm`, content: { repository: { id: 'alpha/app' } } }
  }
  const build: CDEvent = {
    context: ctx('dev.cdevents.build.finished.0.3.0', `${A_SOURCE}/build`, chainId, 1, [{ linkType: 'PATH', from: { contextId: change.context.id } }]),
    subject: { id: `build-${chainId.slice(0, 8)}`, source: `${A_SOURCE}/build`, content: { artifactId: purl } }
  }
  const artifact: CDEvent = {
    context: ctx('dev.cdevents.artifact.published.0.3.0', `${A_SOURCE}/release`, chainId, 2, [{ linkType: 'PATH', from: { contextId: build.context.id } }]),
    subject: { id: purl, source: `${A_SOURCE}/release`, content: { user: 'release-bot' } }
  }
  const toArtifact = [{ linkType: 'RELATION', linkKind: 'ARTIFACT', target: { contextId: artifact.context.id } }]
  const testA = testRun(`${A_SOURCE}/tests`, chainId, 3, 'alpha-unit', 'success', toArtifact)
  const testBFailed = testRun(B_SOURCE, chainId, 4, 'beta-integration', 'failure')
  testBFailed.customData = { artifactId: purl }
  const testBPassed = testRun(B_SOURCE, chainId, 5, 'beta-integration', 'success', toArtifact)
  const deploy: CDEvent = {
    context: ctx('dev.cdevents.service.deployed.0.3.0', `${A_SOURCE}/deploy`, chainId, 6),
    subject: { id: 'service/app', source: `${A_SOURCE}/deploy`, content: { environment: { id: 'prod' }, artifactId: purl } }
  }
  return { chainId, purl, change, build, artifact, testA, testBFailed, testBPassed, deploy }
}
