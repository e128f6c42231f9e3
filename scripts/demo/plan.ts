/**
 * The story the demo tells, as data: three CI/CD communities, the sources their tools sign for,
 * who they trust and what they subscribe to. run-demo.ts turns it into running nodes and REST
 * calls; tests pass a modified copy to exercise failures.
 */

export const COMMUNITY_NAMES = ['onap', 'opnfv', 'tekton'] as const
export type CommunityName = typeof COMMUNITY_NAMES[number]

export interface CommunityPlan {
  name: CommunityName
  /** one line for the printout */
  role: string
  /** CloudEvent source prefixes its tools publish under: what the others trust it for */
  sources: string[]
  /** class patterns it publishes: the others trust it for these classes only */
  publishes: string[]
  /** class patterns it subscribes to (POST /v1/subscriptions) */
  subscribes: string[]
  /** the communities it trusts (POST /v1/trust), by name */
  trusts: CommunityName[]
  /** earlier communities it dials at start (a bootstrap entry needs a running node's address) */
  bootstrap: CommunityName[]
}

/**
 * ONAP merges, builds and publishes a container image; OPNFV's Functest lab tests every ONAP
 * artifact; Tekton's dogfooding cluster deploys what passed; ONAP hears back about both.
 *
 * Every pair is connected (tekton dials onap and opnfv): gossip reaches a community from the
 * publisher directly. In a line (opnfv – onap – tekton) opnfv's `testsuiterun.started` would have
 * to cross onap to reach tekton, and onap neither subscribes to that class nor relays it: such a
 * hub needs `p2p.relay: ['*']` (see the README, Federation).
 */
export const DEMO_COMMUNITIES: readonly CommunityPlan[] = [
  {
    name: 'onap',
    role: 'merges, builds and publishes so/api-handler-infra',
    sources: ['https://gerrit.onap.org', 'https://jenkins.onap.org', 'https://nexus3.onap.org'],
    publishes: ['change.*', 'build.*', 'artifact.*'],
    subscribes: ['service.*', 'testsuiterun.finished'],
    trusts: ['opnfv', 'tekton'],
    bootstrap: []
  },
  {
    name: 'opnfv',
    role: 'runs Functest against every new ONAP artifact',
    sources: ['https://build.opnfv.org'],
    publishes: ['testsuiterun.*'],
    subscribes: ['artifact.*', 'change.*'],
    trusts: ['onap', 'tekton'],
    bootstrap: ['onap']
  },
  {
    name: 'tekton',
    role: 'deploys artifacts that passed the tests',
    sources: ['https://dashboard.dogfooding.tekton.dev'],
    publishes: ['service.*'],
    subscribes: ['testsuiterun.*', 'artifact.published'],
    trusts: ['onap', 'opnfv'],
    bootstrap: ['onap', 'opnfv']
  }
]

/** A deep copy to modify (tests): the shared plan stays as documented. */
export function demoPlan (): CommunityPlan[] {
  return structuredClone([...DEMO_COMMUNITIES])
}
