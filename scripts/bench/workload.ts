import type { CDEvent } from '../../src/events/index.js'

/**
 * The benchmark workload: valid CDEvents v0.5.1 of the classes a CI/CD community emits most,
 * about 1 KB of JSON each, with the fields real tools fill (chain ids, links to the trigger,
 * repository, environment and SBOM references, error text). Deterministic for a given seed, so
 * cdgossip and the RabbitMQ baseline publish exactly the same payloads.
 */

/** The mix, by weight: finished runs and published artifacts dominate real CI traffic. */
export const WORKLOAD_MIX: ReadonlyArray<readonly [kind: EventKind, weight: number]> = [
  ['pipelinerun.finished', 20],
  ['taskrun.finished', 15],
  ['build.finished', 10],
  ['testsuiterun.finished', 15],
  ['artifact.packaged', 8],
  ['artifact.published', 12],
  ['change.merged', 10],
  ['service.deployed', 10]
]

export type EventKind =
  | 'pipelinerun.finished' | 'taskrun.finished' | 'build.finished' | 'testsuiterun.finished'
  | 'artifact.packaged' | 'artifact.published' | 'change.merged' | 'service.deployed'

/** Subject ids repeat within a pool this size, so a subject query finds a handful of records. */
export const SUBJECT_POOL = 5000

export interface WorkloadInit {
  /** PRNG seed @default 1 */
  seed?: number
  /** prefix of every context.id: unique per run, so repeated runs never collide @default 'bench' */
  idPrefix?: string
  /** CloudEvent source of every event @default 'https://ci.community-a.example.org/jenkins' */
  source?: string
  /** several CI tools of one community: each event draws its source from these (overrides `source`) */
  sources?: string[]
  /** event time; the fill of the query store spreads it over weeks @default Date.now */
  clock?: () => number
}

export const DEFAULT_SOURCE = 'https://ci.community-a.example.org/jenkins'

/** mulberry32: tiny, fast and good enough to vary fields reproducibly. */
export function prng (seed: number): () => number {
  let a = seed >>> 0
  return () => {
    a = (a + 0x6D2B79F5) >>> 0
    let t = a
    t = Math.imul(t ^ (t >>> 15), t | 1)
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61)
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296
  }
}

const PIPELINES = ['build-and-test', 'release', 'nightly-integration', 'security-scan', 'deploy-staging', 'deploy-production']
const TASKS = ['checkout', 'compile', 'unit-tests', 'integration-tests', 'lint', 'package', 'sign', 'push-image']
const SERVICES = ['payments', 'checkout', 'catalog', 'search', 'auth', 'notifications', 'gateway', 'inventory']
const ENVIRONMENTS = ['dev', 'staging', 'production-eu', 'production-us']
const SUITES = ['Auth TestSuite', 'Payments API contract tests', 'Checkout end-to-end', 'Catalog smoke tests']
const OUTCOMES = ['success', 'success', 'success', 'success', 'failure', 'error', 'cancel'] as const
const SEVERITIES = ['low', 'medium', 'high', 'critical'] as const
const USERS = ['release-bot', 'ci-publisher', 'nexus-sync', 'jenkins-agent-7']

function hex (rand: () => number, length: number): string {
  let s = ''
  while (s.length < length) s += Math.floor(rand() * 0x100000000).toString(16).padStart(8, '0')
  return s.slice(0, length)
}

function uuidLike (rand: () => number): string {
  const h = hex(rand, 32)
  return `${h.slice(0, 8)}-${h.slice(8, 12)}-4${h.slice(13, 16)}-a${h.slice(17, 20)}-${h.slice(20, 32)}`
}

function pick<T> (rand: () => number, list: readonly T[]): T {
  return list[Math.floor(rand() * list.length)] as T
}

export class Workload {
  private readonly rand: () => number
  private readonly idPrefix: string
  private readonly sources: string[]
  private readonly clock: () => number
  private readonly table: EventKind[]
  private counter = 0

  constructor (init: WorkloadInit = {}) {
    this.rand = prng(init.seed ?? 1)
    this.idPrefix = init.idPrefix ?? 'bench'
    this.sources = init.sources ?? [init.source ?? DEFAULT_SOURCE]
    this.clock = init.clock ?? Date.now
    this.table = WORKLOAD_MIX.flatMap(([kind, weight]) => Array.from({ length: weight }, () => kind))
  }

  /** How many events this workload has produced. */
  get produced (): number {
    return this.counter
  }

  next (): CDEvent {
    return this.make(pick(this.rand, this.table))
  }

  /** `n` events of the mix */
  take (n: number): CDEvent[] {
    return Array.from({ length: n }, () => this.next())
  }

  /** One event of each kind: warms up every (origin, class) sequence before a measurement. */
  oneOfEach (): CDEvent[] {
    return WORKLOAD_MIX.map(([kind]) => this.make(kind))
  }

  /** The subject id used for pool slot `slot` (a query for it finds the records that drew it). */
  static subjectFor (slot: number): string {
    return `pkg:oci/${SERVICES[slot % SERVICES.length] as string}@sha256%3A${(slot * 2654435761 >>> 0).toString(16).padStart(8, '0')}${'c0ffee'.repeat(9)}aa`
  }

  private make (kind: EventKind): CDEvent {
    const r = this.rand
    const n = ++this.counter
    const source = this.sources.length === 1 ? this.sources[0] as string : pick(r, this.sources)
    const runNo = 10_000 + n
    const service = pick(r, SERVICES)
    const chainId = uuidLike(r)
    const commit = hex(r, 40)
    const slot = Math.floor(r() * SUBJECT_POOL)
    const context = {
      specversion: '0.5.1',
      id: `${this.idPrefix}-${n}-${hex(r, 12)}`,
      source,
      type: `dev.cdevents.${kind}.0.3.0`,
      timestamp: new Date(this.clock()).toISOString(),
      chainId,
      links: [
        {
          linkType: 'RELATION',
          linkKind: 'TRIGGER',
          target: { contextId: uuidLike(r) },
          tags: { pipeline: pick(r, PIPELINES), commit }
        },
        {
          linkType: 'PATH',
          from: { contextId: uuidLike(r) },
          tags: { agent: `jenkins-agent-${Math.floor(r() * 16)}`, queue: 'linux-amd64', community: 'community-a' }
        }
      ]
    }
    const repo = { id: `community-a/${service}`, source: `https://git.community-a.example.org/community-a/${service}` }
    let subject: CDEvent['subject']
    switch (kind) {
      case 'pipelinerun.finished': {
        const outcome = pick(r, OUTCOMES)
        subject = {
          id: `${pick(r, PIPELINES)}/${runNo}`,
          source,
          content: {
            pipelineName: pick(r, PIPELINES),
            uri: `https://ci.community-a.example.org/jenkins/job/${service}/job/main/${runNo}/`,
            outcome,
            ...(outcome === 'success' ? {} : { errors: `Stage 'integration-tests' failed: exit code 1\nsee https://ci.community-a.example.org/jenkins/job/${service}/job/main/${runNo}/console` })
          }
        }
        break
      }
      case 'taskrun.finished':
        subject = {
          id: `${service}-${pick(r, TASKS)}-${runNo}`,
          source,
          content: {
            taskName: pick(r, TASKS),
            uri: `https://ci.community-a.example.org/jenkins/job/${service}/job/main/${runNo}/execution/node/${Math.floor(r() * 90) + 10}/`,
            pipelineRun: { id: `build-and-test/${runNo}`, source },
            outcome: pick(r, OUTCOMES),
            errors: ''
          }
        }
        break
      case 'build.finished':
        subject = {
          id: `${service}-build-${runNo}`,
          source,
          content: { artifactId: `pkg:oci/${service}@sha256%3A${hex(r, 64)}?repository_url=registry.community-a.example.org/${service}` }
        }
        break
      case 'testsuiterun.finished': {
        const outcome = pick(r, OUTCOMES)
        subject = {
          id: `${service}-tests-${runNo}`,
          source,
          content: {
            outcome,
            severity: pick(r, SEVERITIES),
            reason: outcome === 'success' ? '412 tests passed' : `3 of 412 tests failed: timeout waiting for ${service} health endpoint`,
            environment: { id: pick(r, ENVIRONMENTS), source: 'https://k8s.community-a.example.org' },
            testSuite: { id: `${service}-suite`, version: `1.${Math.floor(r() * 40)}.0`, name: pick(r, SUITES), uri: `https://tests.community-a.example.org/suites/${service}` }
          }
        }
        break
      }
      case 'artifact.packaged':
        subject = {
          id: Workload.subjectFor(slot),
          source,
          content: {
            change: { id: commit, source: repo.source },
            sbom: { uri: `https://sbom.community-a.example.org/${service}/${commit}.spdx.json` }
          }
        }
        break
      case 'artifact.published':
        subject = {
          id: Workload.subjectFor(slot),
          source,
          content: {
            sbom: { uri: `https://sbom.community-a.example.org/${service}/${commit}.spdx.json` },
            user: pick(r, USERS)
          }
        }
        break
      case 'change.merged':
        subject = {
          id: `${repo.id}/pull/${1000 + Math.floor(r() * 9000)}`,
          source: repo.source,
          content: { repository: repo }
        }
        break
      case 'service.deployed':
        subject = {
          id: `${service}/${pick(r, ENVIRONMENTS)}`,
          source,
          content: {
            environment: { id: pick(r, ENVIRONMENTS), source: 'https://k8s.community-a.example.org' },
            artifactId: Workload.subjectFor(slot)
          }
        }
        break
    }
    return { context, subject }
  }
}
