import fs from 'node:fs/promises'
import os from 'node:os'
import path from 'node:path'
import { describe, expect, it, onTestFinished } from 'vitest'
import { ConfigError, loadConfig } from '../../src/config.js'
import type { ConfigProblem } from '../../src/config.js'
import { badClassPattern } from '../../src/config-problems.js'
import { closest, editDistance } from '../../src/events/index.js'
import { InvalidSubscriptionError, validateSubscriptionInput } from '../../src/subscriptions/index.js'

const PEER_A = '12D3KooWMDphWVc1XENFwvmSLmQZZ3X6SVWB9oDwcCCnUHmmvr3z'
const PEER_B = '12D3KooWENtmzKmggURNFauus7gGSCW9ZVqeaaLNap6ihRrFaTh1'

/** A data dir holding `text` as its config.yaml; returns the dir and the file's path. */
async function withYaml (text: string): Promise<{ dir: string, file: string }> {
  const dir = await fs.mkdtemp(path.join(os.tmpdir(), 'cdgossip-config-problems-'))
  onTestFinished(async () => { await fs.rm(dir, { recursive: true, force: true }) })
  const file = path.join(dir, 'config.yaml')
  await fs.writeFile(file, text)
  return { dir, file }
}

async function refusal (load: Promise<unknown>): Promise<{ error: ConfigError, problems: ConfigProblem[], byKey: Map<string, string> }> {
  const error = await load.then(() => undefined, (e: unknown) => e)
  expect(error).toBeInstanceOf(ConfigError)
  const problems = (error as ConfigError).details?.problems ?? []
  return { error: error as ConfigError, problems, byKey: new Map(problems.map(p => [p.key, p.message])) }
}

describe('config problems: inside subscriptions[] and trust.communities[]', () => {
  it('an unknown field is named by file and path, with a guess, in both lists at once', async () => {
    const { dir, file } = await withYaml([
      'trust:',
      '  communities:',
      `    - { peerId: ${PEER_A}, name: tekton, sources: [https://tekton.example.org/] }`,
      `    - { peerId: ${PEER_B}, name: onap, sources: [https://gerrit.onap.org/], clases: ['artifact.*'] }`,
      'subscriptions:',
      "  - class: ['artifact.*']",
      ''
    ].join('\n'))
    const { error, problems } = await refusal(loadConfig({ dataDir: dir }, {}))
    expect(problems).toEqual([
      { source: file, key: 'trust.communities[1].clases', message: 'unknown field, did you mean classes?' },
      // the missing `classes` is what the misspelt field was guessed to be: said once
      { source: file, key: 'subscriptions[0].class', message: 'unknown field, did you mean classes?' }
    ])
    expect(error.code).toBe('CDG_CONFIG')
    expect(error.message).toContain(`${file}: subscriptions[0].class: unknown field, did you mean classes?`)
    expect(error.message).toContain(`${file}: trust.communities[1].clases: unknown field, did you mean classes?`)
  })

  it('unknown fields at any depth of an entry, and after them its first real problem', async () => {
    const { dir, file } = await withYaml([
      'subscriptions:',
      '  - classes: [artifact.published]',
      '    filter: { outcom: failure }',
      '    sink: { type: webhook, url: ftp://hooks.example.org/x, retries: 3 }',
      ''
    ].join('\n'))
    const { problems } = await refusal(loadConfig({ dataDir: dir }, {}))
    expect(problems.map(p => [p.key, p.message])).toEqual([
      ['subscriptions[0].filter.outcom', 'unknown field, did you mean outcome?'],
      ['subscriptions[0].sink.retries', 'unknown field (known: type, url, mode, headers, maxAttempts, maxAgeSeconds, timeoutMs)'],
      ['subscriptions[0].sink.url', 'must be http or https, got "ftp:"']
    ])
    expect(problems.every(p => p.source === file)).toBe(true)
  })

  it('subscriptions are refused by the validator POST /v1/subscriptions uses, with its words', async () => {
    const entry = { classes: ['*'], start: { kind: 'time', time: '2025-02-30T00:00:00Z' } }
    const api = (() => { try { validateSubscriptionInput(entry); return undefined } catch (e) { return e as InvalidSubscriptionError } })()
    expect(api).toBeInstanceOf(InvalidSubscriptionError)
    const { dir } = await withYaml(`subscriptions:\n  - ${JSON.stringify(entry)}\n`)
    const { byKey } = await refusal(loadConfig({ dataDir: dir }, {}))
    expect(api?.details.field).toBe('start.time')
    expect(byKey.get('subscriptions[0].start.time')).toBe(api?.message.replace(/^start\.time /, ''))
  })

  it('trust entries are refused by trust/\'s validator: peer IDs, names, class patterns, duplicates', async () => {
    const { dir } = await withYaml([
      'trust:',
      '  communities:',
      '    - { peerId: QmNotAnEd25519Key, name: a, sources: [x] }',
      `    - { peerId: ${PEER_A}, name: self, sources: [x] }`,
      `    - { peerId: ${PEER_B}, name: onap, sources: [x], classes: [artifacts] }`,
      `    - { peerId: ${PEER_A}, name: tekton, sources: [x] }`,
      `    - { peerId: ${PEER_B}, name: onap, sources: [x] }`,
      '    - { name: nobody, sources: [x] }',
      ''
    ].join('\n'))
    const { byKey } = await refusal(loadConfig({ dataDir: dir }, {}))
    expect(byKey.get('trust.communities[0].peerId')).toMatch(/not a peer ID/)
    expect(byKey.get('trust.communities[1].name')).toMatch(/reserved/)
    expect(byKey.get('trust.communities[2].classes[0]')).toMatch(/^unknown subject "artifacts"; did you mean "artifact"\? subjects: /)
    // [1] was refused, so [3] is the first valid entry for PEER_A
    expect(byKey.has('trust.communities[3].peerId')).toBe(false)
    expect(byKey.has('trust.communities[4].peerId')).toBe(false)
    expect(byKey.get('trust.communities[5].peerId')).toBe('is required')
  })

  it('names and ids are explained in words, not as the regular expressions behind them', async () => {
    const { dir } = await withYaml(`trust:\n  communities:\n    - { peerId: ${PEER_A}, name: 'tekton ci', sources: [x] }\nsubscriptions:\n  - { id: Releases, classes: ['*'] }\n`)
    const { byKey } = await refusal(loadConfig({ dataDir: dir }, {}))
    expect(byKey.get('trust.communities[0].name')).toBe('must be 1-64 letters, digits, dots, underscores and dashes, starting with a letter or digit, got "tekton ci"')
    expect(byKey.get('subscriptions[0].id')).toBe('must be 1-64 lowercase letters, digits and dashes, starting with a letter or digit, got "Releases"')
  })

  it('one peer ID or one name twice, and two subscriptions the node could not tell apart', async () => {
    const { dir } = await withYaml([
      'trust:',
      '  communities:',
      `    - { peerId: ${PEER_A}, name: tekton, sources: [x] }`,
      `    - { peerId: ${PEER_A}, name: tekton2, sources: [x] }`,
      `    - { peerId: ${PEER_B}, name: tekton, sources: [x] }`,
      'subscriptions:',
      '  - { id: releases, classes: [artifact.published] }',
      '  - { id: releases, classes: [service.deployed] }',
      '  - { classes: ["*"] }',
      '  - { classes: ["*"], sink: { type: store } }',
      ''
    ].join('\n'))
    const { byKey } = await refusal(loadConfig({ dataDir: dir }, {}))
    expect(byKey.get('trust.communities[1].peerId')).toBe(`${PEER_A} is already listed in trust.communities[0]`)
    expect(byKey.get('trust.communities[2].name')).toBe('tekton is already the name of trust.communities[0]')
    expect(byKey.get('subscriptions[1].id')).toBe('releases is already the id of subscriptions[0]')
    // the same after defaults are filled in: both would get one derived id
    expect(byKey.get('subscriptions[3]')).toMatch(/^the same subscription as subscriptions\[2\]/)
  })
})

describe('config problems: relay patterns and multiaddrs', () => {
  it('a bad relay pattern in the file or on the command line names its key', async () => {
    const { dir, file } = await withYaml("p2p:\n  relay: ['artifact.*', artifacts, 'x.mytool-thing.*', 'x.mytool-thing.done']\n")
    const { problems } = await refusal(loadConfig({ dataDir: dir, relay: ['*', 'pipelinerun'] }, {}))
    const inFile = new Map(problems.filter(p => p.source === file).map(p => [p.key, p.message]))
    expect(inFile.get('p2p.relay[1]')).toMatch(/^unknown subject "artifacts"; did you mean "artifact"\? subjects: artifact, /)
    // a custom wildcard is a class pattern but names no topic a relay could join
    expect(inFile.get('p2p.relay[2]')).toMatch(/names no topic a relay can join/)
    const flag = problems.filter(p => p.source === 'command line')
    expect(flag).toEqual([{ source: 'command line', key: 'p2p.relay[1]', message: '"pipelinerun" is a subject, not a class pattern: did you mean "pipelinerun.*"?' }])
    expect(problems).toHaveLength(3)
  })

  it('valid relay patterns load', async () => {
    const { dir } = await withYaml("p2p:\n  relay: ['*', 'artifact.*', 'pipelinerun.finished', 'x.mytool-thing.done']\n")
    expect((await loadConfig({ dataDir: dir }, {})).p2p.relay).toEqual(['*', 'artifact.*', 'pipelinerun.finished', 'x.mytool-thing.done'])
  })

  it('listen and bootstrap addresses are parsed as libp2p will, wherever they come from', async () => {
    const { dir, file } = await withYaml(`p2p:\n  listen: [/ip4/0.0.0.0/tcp/4001, 'tcp://0.0.0.0:4001']\n  bootstrap: [/ip4/10.0.0.1/tcp/4001, /ip4/10.0.0.1/tcp/4001/p2p/${PEER_A}]\n`)
    const { problems } = await refusal(loadConfig({ dataDir: dir, peers: ['10.0.0.2:4001'], listen: ['/ip4/127.0.0.1/tcp/0', 'nope'] }, { CDGOSSIP_PEERS: '/dns4/hub.example.org/tcp/4001' }))
    const at = (source: string | undefined, key: string): string | undefined => problems.find(p => p.source === source && p.key === key)?.message
    expect(at(file, 'p2p.listen[1]')).toMatch(/^"tcp:\/\/0\.0\.0\.0:4001" is not a multiaddr/)
    expect(at(file, 'p2p.bootstrap[0]')).toMatch(/has no \/p2p\/<peer ID>/)
    expect(at('command line', '--peer')).toMatch(/^"10\.0\.0\.2:4001" is not a multiaddr/)
    expect(at(undefined, 'env CDGOSSIP_PEERS')).toMatch(/has no \/p2p\/<peer ID>/)
    // --listen replaces the file's list, so its index is p2p.listen's
    expect(at('command line', 'p2p.listen[1]')).toMatch(/^"nope" is not a multiaddr/)
    expect(problems).toHaveLength(5)
  })
})

describe('config problems: every layer at once', () => {
  it('the file, the environment and the flags are reported together, one line each', async () => {
    const { dir, file } = await withYaml('netwrok: cdf\n')
    const { error, problems } = await refusal(loadConfig({ dataDir: dir, relay: ['artifacts'] }, { CDGOSSIP_API_PORT: 'abc' }))
    expect(problems.map(p => p.key)).toEqual(['netwrok', 'env CDGOSSIP_API_PORT', 'p2p.relay[0]'])
    expect(error.message.split('\n')).toEqual([
      'invalid configuration (3 problems):',
      `  ${file}: netwrok: unknown field, did you mean network?`,
      '  env CDGOSSIP_API_PORT: must be a port number (0-65535), got "abc"',
      expect.stringMatching(/^ {2}command line: p2p\.relay\[0\]: unknown subject "artifacts"; did you mean "artifact"\?/)
    ])
  })

  it('one problem is one line', async () => {
    const { dir, file } = await withYaml('log:\n  levle: debug\n')
    const { error } = await refusal(loadConfig({ dataDir: dir }, {}))
    expect(error.message).toBe(`invalid configuration: ${file}: log.levle: unknown field, did you mean level?`)
  })

  it('a `{}` body with settings appended (the starter of older versions) gets a hint', async () => {
    const { dir, file } = await withYaml('# cdgossip node configuration\n{}\ntrust:\n  mode: open\n')
    const { problems } = await refusal(loadConfig({ dataDir: dir }, {}))
    expect(problems).toEqual([{ source: file, key: '(file)', message: expect.stringMatching(/^not valid YAML \(the `\{\}` line, as older versions of cdgossip init wrote it, is a whole document: delete it and keep your settings\): .*line 3, column 1/s) }])
  })

  it('an empty or comment-only file is valid', async () => {
    for (const text of ['', '\n', '# nothing here yet\n#network: cdf\n']) {
      const { dir } = await withYaml(text)
      expect((await loadConfig({ dataDir: dir }, {})).network).toBe('cdgossip')
    }
  })
})

describe('config problems: guesses', () => {
  it('edit distance counts a swap of neighbours as one edit', () => {
    expect(editDistance('sourecs', 'sources')).toBe(1)
    expect(editDistance('class', 'classes')).toBe(2)
    expect(editDistance('', 'abc')).toBe(3)
  })

  it('guesses only what is close', () => {
    expect(closest('prot', ['host', 'port', 'bodyLimit'])).toBe('port')
    expect(closest('BODYLIMIT', ['host', 'port', 'bodyLimit'])).toBe('bodyLimit')
    expect(closest('zzz', ['host', 'port'])).toBeUndefined()
    expect(closest('x'.repeat(500), ['x'])).toBeUndefined()
  })

  it('class patterns: a subject, a CDEvents type, a near miss, from the one message builder', () => {
    expect(badClassPattern('artifacts')).toMatch(/^unknown subject "artifacts"; did you mean "artifact"\?/)
    expect(badClassPattern('pipelinerun')).toBe('"pipelinerun" is a subject, not a class pattern: did you mean "pipelinerun.*"?')
    expect(badClassPattern('dev.cdevents.artifact.published.0.3.0')).toBe('"dev.cdevents.artifact.published.0.3.0" is an event type, not a class pattern: did you mean "artifact.published"?')
    expect(badClassPattern('artifact.publish')).toMatch(/^unknown event class "artifact\.publish"; did you mean "artifact\.published"\?/)
    expect(badClassPattern('completely-else')).toMatch(/^"completely-else" is not a class pattern: /)
    expect(badClassPattern(42)).toMatch(/^42 is not an event class pattern: a pattern is a string/)
  })
})
