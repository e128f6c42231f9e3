/**
 * The CDEvents v0.5.1 of the demo's chain, one builder per step. Each event carries the chain's
 * `context.chainId` and embedded links: PATH from the previous event of the chain, RELATION
 * (TRIGGER) to the event that started a community's part, END on the last one.
 */
import { randomUUID } from 'node:crypto'
import type { CDEvent } from '../../src/events/types.js'

export const SPEC_VERSION = '0.5.1'

/** The image the chain is about: built by ONAP, tested by OPNFV, deployed by Tekton. */
export const IMAGE = {
  name: 'so/api-handler-infra',
  version: '1.15.3',
  purl: 'pkg:docker/onap/so/api-handler-infra@1.15.3'
} as const

const ONAP_GERRIT = 'https://gerrit.onap.org/r/so'
const ONAP_JENKINS = 'https://jenkins.onap.org/job/so-master-merge-java'
const ONAP_NEXUS = 'https://nexus3.onap.org/repository/docker.release'
const OPNFV_FUNCTEST = 'https://build.opnfv.org/ci/job/functest-onap-smoke'
const TEKTON_DOGFOODING = 'https://dashboard.dogfooding.tekton.dev/namespaces/onap/pipelineruns'

interface Link {
  linkType: 'PATH' | 'RELATION' | 'END'
  linkKind?: string
  from?: { contextId: string }
  target?: { contextId: string }
}

const path = (parent: CDEvent): Link => ({ linkType: 'PATH', from: { contextId: parent.context.id } })
const trigger = (cause: CDEvent): Link => ({ linkType: 'RELATION', linkKind: 'TRIGGER', target: { contextId: cause.context.id } })
const end = (parent: CDEvent): Link => ({ linkType: 'END', from: { contextId: parent.context.id } })

function event (type: string, source: string, chainId: string, links: Link[], subject: CDEvent['subject']): CDEvent {
  return {
    context: {
      specversion: SPEC_VERSION,
      id: randomUUID(),
      source,
      type,
      timestamp: new Date().toISOString(),
      chainId,
      ...(links.length === 0 ? {} : { links })
    },
    subject
  }
}

/** onap: the change that starts the chain (no parent, so no links). */
export function changeMerged (chainId: string): CDEvent {
  return event('dev.cdevents.change.merged.0.3.0', ONAP_GERRIT, chainId, [], {
    id: 'so~master~I5a1f0c7e',
    source: ONAP_GERRIT,
    content: { repository: { id: 'so', source: 'https://gerrit.onap.org/r' } }
  })
}

/** onap: Jenkins built the merged change. */
export function buildFinished (chainId: string, change: CDEvent): CDEvent {
  return event('dev.cdevents.build.finished.0.3.0', `${ONAP_JENKINS}/1842`, chainId, [path(change), trigger(change)], {
    id: 'so-master-merge-java/1842',
    source: ONAP_JENKINS,
    content: { artifactId: IMAGE.purl }
  })
}

/** onap: the image is in Nexus. */
export function artifactPublished (chainId: string, build: CDEvent): CDEvent {
  return event('dev.cdevents.artifact.published.0.3.0', ONAP_NEXUS, chainId, [path(build)], {
    id: IMAGE.purl,
    source: ONAP_NEXUS,
    content: { sbom: { uri: `${ONAP_NEXUS}/${IMAGE.name}/${IMAGE.version}/sbom.spdx.json` }, user: 'onap-jenkins' }
  })
}

const FUNCTEST_SUITE = { id: 'functest-onap-smoke', name: 'Functest ONAP smoke', version: '2024.2' }
const FUNCTEST_POD = { id: 'opnfv-pod-1', source: 'https://build.opnfv.org/ci/computer/opnfv-pod-1' }

/** opnfv: Functest starts, triggered by the artifact it received from onap. */
export function testSuiteRunStarted (chainId: string, artifact: CDEvent): CDEvent {
  return event('dev.cdevents.testsuiterun.started.0.3.0', OPNFV_FUNCTEST, chainId, [path(artifact), trigger(artifact)], {
    id: 'functest-onap-smoke/977',
    source: OPNFV_FUNCTEST,
    content: { environment: FUNCTEST_POD, testSuite: FUNCTEST_SUITE, trigger: { type: 'event' } }
  })
}

/** opnfv: Functest passed. */
export function testSuiteRunFinished (chainId: string, started: CDEvent): CDEvent {
  return event('dev.cdevents.testsuiterun.finished.0.3.0', OPNFV_FUNCTEST, chainId, [path(started)], {
    id: 'functest-onap-smoke/977',
    source: OPNFV_FUNCTEST,
    content: { environment: FUNCTEST_POD, testSuite: FUNCTEST_SUITE, outcome: 'success' }
  })
}

/** tekton: deployed to staging because the suite it received from opnfv passed; the chain ends. */
export function serviceDeployed (chainId: string, finished: CDEvent): CDEvent {
  return event('dev.cdevents.service.deployed.0.3.0', `${TEKTON_DOGFOODING}/deploy-so-x7k2p`, chainId, [path(finished), trigger(finished), end(finished)], {
    id: 'staging/so-api-handler-infra',
    source: TEKTON_DOGFOODING,
    content: { environment: { id: 'staging', source: 'https://dashboard.dogfooding.tekton.dev' }, artifactId: IMAGE.purl }
  })
}
