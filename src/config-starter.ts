import { stringify as toYaml } from 'yaml'
import { CONFIG_FILE_SCHEMA, defaultConfig } from './config.js'

/**
 * The config.yaml `cdgossip init` writes: every section of the schema, commented out, with its
 * default and a line on what it does, so a user can uncomment a line or append a normal YAML
 * block (a body of `{}` made any appended block a YAML error). Settings given to init are
 * written live. Built from the schema and the defaults, so a new key shows up by itself; this
 * table only explains it.
 */
export const STARTER_DOCS: Readonly<Record<string, string>> = Object.freeze({
  network: 'Gossip network name; every community of one federation uses the same one.\nTopics are cdgossip/<network>/<event class>.',
  api: 'REST API for local tools (bearer token in <data dir>/api-token).',
  'api.host': 'listen address; keep 127.0.0.1 unless a TLS proxy you run fronts it',
  'api.port': '0 = any free port (clients find it in <data dir>/api-url)',
  'api.bodyLimit': 'largest request body in bytes (1024..67108864)',
  p2p: 'libp2p: where this node listens and whom it dials.',
  'p2p.listen': 'multiaddrs to listen on; open this TCP port inbound for other communities',
  'p2p.bootstrap': 'peers to dial and keep connected, with their peer ID:\n  - /dns4/gossip.example.org/tcp/4001/p2p/12D3KooW...',
  'p2p.mdns': 'discover peers on the local network',
  'p2p.relay': "event class patterns forwarded for others without storing them, e.g. ['*'] on a hub",
  'p2p.heartbeatMs': 'gossipsub heartbeat in ms (50..60000)',
  'p2p.targetConnections': 'connections to keep through peer exchange (1..100); discovered and remembered peers are dialled up to it',
  sync: 'Catch-up: asking peers for records this node lacks.',
  'sync.intervalSeconds': 'how often (also on connect and on gaps)',
  trace: 'Traceability: what `?resolve=true` (cdgossip trace --resolve) may ask peers for, per request.',
  'trace.resolveMaxReferences': 'unresolved links and entities asked for, all rounds together (1..64)',
  'trace.resolveMaxRounds': 'rounds of fetching, then following what the fetched events link to (1..10)',
  'trace.resolveTimeoutMs': 'time one request may spend asking peers (100..30000)',
  trust: 'Whose events this node keeps.',
  'trust.mode': 'allowlist: only the communities below (and this node); open: everyone, marked untrusted',
  'trust.communities': 'a community: the peer ID its node prints at start, a name, the CDEvent source\nprefixes it signs for, and optionally its classes (default every class):\n  - peerId: 12D3KooW...\n    name: tekton\n    sources: [https://tekton.example.org/]\n    classes: [\'pipelinerun.*\', \'taskrun.*\']\nor, for a community with a signed manifest, its root key instead of a peer ID\n(every node the manifest lists is trusted):\n  - community: 12D3KooW...\n    name: onap\n    sources: [https://jenkins.onap.org]\nEntries added with `cdgossip trust add` are kept in the store, not here.',
  subscriptions: "What this node keeps, and which topics it joins; the same fields as POST /v1/subscriptions.\nWithout one it keeps only what it publishes itself. Example:\n  - id: releases\n    classes: ['artifact.published', 'service.deployed']\n    start: { kind: now }        # or beginning: fetch the history once\n    sink: { type: store }       # or { type: webhook, url: http://127.0.0.1:8080/cdevents }",
  hooks: 'Webhook listener for your tools (GitHub, GitLab, Jenkins, ...): POST /hooks/<source name>.\nIt listens only while a source exists, needs no API token, and serves nothing else.',
  'hooks.listen': 'host:port; keep 127.0.0.1 behind a TLS reverse proxy (README, Tools in)',
  'hooks.bodyLimit': 'largest webhook body in bytes (1024..67108864)',
  sources: "Tools whose webhooks this node turns into signed CDEvents; the same fields as POST /v1/sources.\nThe secret is read from a file (mode 0600) or an environment variable, never written here:\n  - name: github-myorg\n    kind: github          # github, gitlab, gerrit, jenkins, nexus, harbor, cdevents, generic\n    secretFile: /etc/cdgossip/github-webhook-secret\n  - name: nexus\n    kind: nexus\n    secretEnv: NEXUS_WEBHOOK_SECRET\n    settings: { url: https://nexus.example.org }\nSources added with `cdgossip source add` are kept in the store, not here.",
  community: 'This node as one of several nodes of one community (README, Communities with several nodes).',
  'community.manifest': 'the signed manifest chain `cdgossip community export` writes, listing this node, a path relative to the data dir:\n  manifest: community.json',
  'community.heartbeatMs': 'how often the community\'s nodes tell each other they are alive (100..60000); the webhook/trigger lease moves to another node after three are missed',
  log: 'Logging: JSON lines on stdout.',
  'log.level': 'fatal, error, warn, info, debug, trace or silent',
  'log.pretty': 'human-readable lines instead of JSON (default: when stdout is a terminal)'
})

/** Values shown for keys whose default is "unset". */
const EXAMPLE_VALUES: Readonly<Record<string, unknown>> = Object.freeze({ 'log.pretty': true })

export interface StarterOptions {
  network?: string
  apiPort?: number
  p2pPort?: number
}

const comment = (text: string, indent: string): string[] => text.split('\n').map(l => `${indent}# ${l}`)
/** `key: value` as YAML lines, flow style for short lists so a default reads on one line. */
const yamlLines = (key: string, value: unknown): string[] => Array.isArray(value) && value.length <= 1
  ? [`${key}: ${toYaml(value, { collectionStyle: 'flow', flowCollectionPadding: false }).trim()}`]
  : toYaml({ [key]: value }).trimEnd().split('\n')

/**
 * The starter file's text. Sections are commented out unless an option sets one of their keys;
 * then the section header and that key are live and its other keys stay commented.
 */
export function starterConfig (options: StarterOptions = {}): string {
  const defaults = defaultConfig() as unknown as Record<string, unknown>
  const live: Record<string, unknown> = {}
  if (options.network !== undefined) live.network = options.network
  if (options.apiPort !== undefined) live['api.port'] = options.apiPort
  if (options.p2pPort !== undefined) live['p2p.listen'] = [`/ip4/0.0.0.0/tcp/${options.p2pPort}`]

  const out = [
    '# cdgossip node configuration. Every key is documented in the README (Configuration).',
    '# Each section below is commented out and shows its default. To change a setting, remove the',
    '# "# " in front of its section line and of the setting, or append a normal YAML block at the end.',
    '# Precedence: defaults < this file < CDGOSSIP_* environment < command-line flags.',
    '# Check this file with `cdgossip config check`; see what a running node uses with `cdgossip config show`.'
  ]
  const schema = CONFIG_FILE_SCHEMA.properties as Record<string, { properties?: Record<string, unknown> }>
  for (const [section, sectionSchema] of Object.entries(schema)) {
    out.push('')
    const doc = STARTER_DOCS[section]
    if (doc !== undefined) out.push(...comment(doc, ''))
    const keys = Object.keys(sectionSchema.properties ?? {})
    if (keys.length === 0) {
      const isLive = Object.hasOwn(live, section)
      const lines = yamlLines(section, isLive ? live[section] : defaults[section])
      out.push(...(isLive ? lines : lines.map(l => `# ${l}`)))
      continue
    }
    const sectionLive = keys.some(k => Object.hasOwn(live, `${section}.${k}`))
    const off = sectionLive ? '' : '# '
    out.push(`${off}${section}:`)
    const values = defaults[section] as Record<string, unknown>
    for (const key of keys) {
      const path = `${section}.${key}`
      const keyDoc = STARTER_DOCS[path]
      if (keyDoc !== undefined) out.push(...comment(keyDoc, '  ').map(l => `${off}${l}`))
      const isLive = Object.hasOwn(live, path)
      const value = isLive ? live[path] : values[key] ?? EXAMPLE_VALUES[path]
      if (value === undefined) continue
      out.push(...yamlLines(key, value).map(l => isLive ? `  ${l}` : `${off === '' ? '  # ' : '#   '}${l}`))
    }
  }
  return out.join('\n') + '\n'
}
