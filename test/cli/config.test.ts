/**
 * `cdgossip config show`, `config check`, `init`'s starter file and how `start` reports a bad
 * configuration: the real CLI (child processes), against a node started with `cdgossip start`.
 */
import fs from 'node:fs/promises'
import net from 'node:net'
import path from 'node:path'
import { describe, expect, it, onTestFinished } from 'vitest'
import { parse as parseYaml } from 'yaml'
import { BUILT, SKIP_REASON, lines, makeTempDir, removeDir, runCli, startNode } from './cli-helpers.js'

const TITLE = 'cdgossip config'

const TEKTON = '12D3KooWMDphWVc1XENFwvmSLmQZZ3X6SVWB9oDwcCCnUHmmvr3z'
const ONAP = '12D3KooWENtmzKmggURNFauus7gGSCW9ZVqeaaLNap6ihRrFaTh1'

async function tempDir (): Promise<string> {
  const dir = await makeTempDir('cdgossip-cli-config-')
  onTestFinished(async () => { await removeDir(dir) })
  return dir
}

/** A port nothing listens on: bound, then released. */
async function closedPort (): Promise<number> {
  const server = net.createServer()
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
  const { port } = server.address() as net.AddressInfo
  await new Promise<void>((resolve) => server.close(() => { resolve() }))
  return port
}

interface Shown {
  dataDir: string
  network: string
  p2p: { listen: string[], relay: string[] }
  trust: { mode: string, communities: Array<{ peerId: string, name: string }> }
  subscriptions: Array<{ id?: string }>
  log: { level: string }
  live?: { trust: { mode: string, entries: Array<{ peerId: string, name: string, classes: string[] }> }, subscriptions: Array<{ id: string, origin: string }> }
  secrets: { apiToken: string, identityKey: string }
}

/** The lines a ConfigError prints under its first line (one problem: the rest of the first line). */
function problemLines (stderr: string): string[] {
  const [first = '', ...rest] = lines(stderr)
  const single = /^cdgossip \w+: invalid configuration: (.*)$/.exec(first)
  return single !== null ? [single[1] ?? ''] : rest.map((l) => l.trim())
}

describe.skipIf(!BUILT)(BUILT ? TITLE : `${TITLE} ${SKIP_REASON}`, () => {
  it('init, then a YAML block appended: config check passes, start uses it, config show tells what the node runs with and its live trust', async () => {
    const dir = path.join(await tempDir(), 'node')
    expect((await runCli(['init', '--data-dir', dir])).code).toBe(0)
    const file = path.join(dir, 'config.yaml')
    await fs.appendFile(file, [
      'trust:',
      '  communities:',
      `    - { peerId: ${TEKTON}, name: tekton, sources: [https://tekton.example.org/] }`,
      'subscriptions:',
      "  - { id: releases, classes: ['artifact.published'], sink: { type: webhook, url: 'https://hooks.example.org/in?token=q-s3cr3t', headers: { authorization: Bearer h-s3cr3t } } }",
      ''
    ].join('\n'))

    const check = await runCli(['config', 'check', '--data-dir', dir])
    expect(check.code, check.stderr).toBe(0)
    expect(check.stdout).toContain(`configuration valid: ${file} (1 trust entry, 1 subscription, relay none)`)

    const node = await startNode(dir, ['--relay', 'artifact.*'])
    onTestFinished(async () => { await node.stop() })
    // trust added over the API after start: only the running node knows it
    const added = await runCli(['trust', 'add', '--data-dir', dir, '--peer-id', ONAP, '--name', 'onap', '--source', 'https://gerrit.onap.org/'])
    expect(added.code, added.stderr).toBe(0)

    const show = await runCli(['config', 'show', '--data-dir', dir])
    expect(show.code, show.stderr).toBe(0)
    expect(lines(show.stdout)[0]).toBe(`# node running at ${node.apiUrl}: the configuration it runs with (defaults < config file < environment < flags at its start),`)
    const shown = parseYaml(show.stdout) as Shown
    // the flags of its start, not only the file
    expect(shown.p2p.listen).toEqual(['/ip4/127.0.0.1/tcp/0'])
    expect(shown.p2p.relay).toEqual(['artifact.*'])
    expect(shown.log.level).toBe('warn')
    expect(shown.trust.communities.map((e) => e.name)).toEqual(['tekton'])
    expect(shown.live?.trust.entries.map((e) => [e.name, e.peerId, e.classes])).toEqual([['tekton', TEKTON, ['*']], ['onap', ONAP, ['*']]])
    expect(shown.live?.subscriptions.map((s) => [s.id, s.origin])).toEqual([['releases', 'config']])
    expect(shown.secrets.apiToken).toBe(`${path.join(dir, 'api-token')} (not shown)`)
    for (const secret of [node.token, 'q-s3cr3t', 'h-s3cr3t']) expect(show.stdout).not.toContain(secret)

    // found by --api-url and --token as well, from anywhere; --json for scripts
    const remote = await runCli(['config', 'show', '--json', '--data-dir', path.join(dir, 'elsewhere'), '--api-url', node.apiUrl, '--token', node.token])
    expect(remote.code, remote.stderr).toBe(0)
    const json = JSON.parse(remote.stdout) as { source: string, config: Shown, live: Shown['live'] }
    expect(json.source).toBe('node')
    expect(json.live?.trust.entries).toHaveLength(2)
    expect(remote.stdout).not.toContain(node.token)

    await node.stop()
    const stopped = await runCli(['config', 'show', '--data-dir', dir])
    expect(stopped.code, stopped.stderr).toBe(0)
    expect(lines(stopped.stdout)[0]).toBe(`# node not running: showing the configuration file ${file} merged with defaults and the environment (flags given to start are not included)`)
    const fromFile = parseYaml(stopped.stdout) as Shown
    expect(fromFile.live).toBeUndefined()
    expect(fromFile.p2p.relay).toEqual([])
    expect(fromFile.trust.communities.map((e) => e.name)).toEqual(['tekton'])
  })

  it('config show without a node: the file, labelled; a stale api-url too; an explicit --api-url must answer', async () => {
    const dir = await tempDir()
    const none = await runCli(['config', 'show', '--data-dir', dir], { env: { CDGOSSIP_API_PORT: '7777' } })
    expect(none.code, none.stderr).toBe(0)
    expect(lines(none.stdout)[0]).toBe(`# node not running: no configuration file in ${dir}: showing the defaults and the environment (flags given to start are not included)`)
    expect((parseYaml(none.stdout) as { api: { port: number } }).api.port).toBe(7777)

    const url = `http://127.0.0.1:${await closedPort()}`
    await fs.writeFile(path.join(dir, 'api-url'), `${url}\n`)
    await fs.writeFile(path.join(dir, 'api-token'), 'a-token-long-enough-to-pass-0123456789\n', { mode: 0o600 })
    const stale = await runCli(['config', 'show', '--data-dir', dir])
    expect(stale.code, stale.stderr).toBe(0)
    expect(lines(stale.stdout)[0]).toMatch(new RegExp(`^# node not running \\(nothing answers at ${url.replace(/\./g, '\\.')}\\): no configuration file`))

    const explicit = await runCli(['config', 'show', '--api-url', url, '--token', 'x'.repeat(20)])
    expect(explicit.code).toBe(3)
    expect(explicit.stderr).toContain('cannot reach the cdgossip node')
  })

  it('config check: 0 for an empty or comment-only file, 3 with every problem by file and path; start reports the same', async () => {
    const dir = await tempDir()
    const file = path.join(dir, 'config.yaml')
    for (const text of ['', '# nothing yet\n']) {
      await fs.writeFile(file, text)
      const ok = await runCli(['config', 'check', '--data-dir', dir])
      expect(ok.code, ok.stderr).toBe(0)
    }

    await fs.writeFile(file, [
      'trust:',
      '  communities:',
      `    - { peerId: ${TEKTON}, name: tekton, sources: [https://tekton.example.org/] }`,
      `    - { peerId: ${ONAP}, name: onap, sourcse: [https://gerrit.onap.org/] }`,
      'subscriptions:',
      "  - class: ['artifact.*']",
      ''
    ].join('\n'))
    const expected = [
      `${file}: trust.communities[1].sourcse: unknown field, did you mean sources?`,
      `${file}: subscriptions[0].class: unknown field, did you mean classes?`
    ]
    const check = await runCli(['config', 'check', '--data-dir', dir])
    expect(check.code).toBe(3)
    expect(check.stdout).toBe('')
    expect(lines(check.stderr)[0]).toBe('cdgossip config: invalid configuration (2 problems):')
    expect(problemLines(check.stderr)).toEqual(expected)

    const start = await runCli(['start', '--data-dir', dir, '--api-port', '0', '--listen', '/ip4/127.0.0.1/tcp/0'])
    expect(start.code).toBe(3)
    expect(lines(start.stderr)[0]).toBe('cdgossip start: invalid configuration (2 problems):')
    expect(problemLines(start.stderr)).toEqual(expected)
    await expect(fs.access(path.join(dir, 'api-url'))).rejects.toThrow()
  })

  it('a bad relay pattern, in the file or as --relay, stops start with exit 3 naming the key', async () => {
    const dir = await tempDir()
    const start = await runCli(['start', '--data-dir', dir, '--api-port', '0', '--listen', '/ip4/127.0.0.1/tcp/0', '--relay', 'artifacts'])
    expect(start.code).toBe(3)
    expect(problemLines(start.stderr)).toEqual([expect.stringMatching(/^command line: p2p\.relay\[0\]: unknown subject "artifacts"; did you mean "artifact"\? subjects: /)])
    const check = await runCli(['config', 'check', '--data-dir', dir, '--relay', '*', '--relay', 'artifacts'])
    expect(check.code).toBe(3)
    expect(check.stderr).toContain('p2p.relay[1]: unknown subject "artifacts"; did you mean "artifact"?')

    const file = path.join(dir, 'config.yaml')
    await fs.writeFile(file, "p2p:\n  relay: ['x.mytool-build.*']\n")
    const fromFile = await runCli(['start', '--data-dir', dir, '--api-port', '0', '--listen', '/ip4/127.0.0.1/tcp/0'])
    expect(fromFile.code).toBe(3)
    expect(problemLines(fromFile.stderr)).toEqual([`${file}: p2p.relay[0]: "x.mytool-build.*" names no topic a relay can join: name custom classes exactly (x.<tool>-<subject>.<predicate>)`])

    // checked before the data dir is created: a bad flag is not written into a new starter file
    const fresh = path.join(dir, 'fresh')
    const badNetwork = await runCli(['start', '--data-dir', fresh, '--network', 'Not A Name'])
    expect(badNetwork.code).toBe(3)
    expect(problemLines(badNetwork.stderr)).toEqual([expect.stringMatching(/^command line: network: must be 1-63 lowercase letters, digits and dashes/)])
    await expect(fs.access(fresh)).rejects.toThrow()
  })

  it('a trust entry for the node itself (one file shared by every node): check and start name it', async () => {
    const dir = path.join(await tempDir(), 'node')
    const init = await runCli(['init', '--data-dir', dir])
    const self = /peer ID\s+(12D3KooW\w+)/.exec(init.stdout)?.[1] ?? ''
    const file = path.join(dir, 'config.yaml')
    await fs.appendFile(file, `trust:\n  communities:\n    - { peerId: ${TEKTON}, name: tekton, sources: ['*'] }\n    - { peerId: ${self}, name: me, sources: ['*'] }\n`)
    const expected = [`${file}: trust.communities[1].peerId: ${self} is this node's own peer ID; its events are always trusted: remove the entry (or use this file on the other nodes only)`]
    const check = await runCli(['config', 'check', '--data-dir', dir])
    expect(check.code).toBe(3)
    expect(problemLines(check.stderr)).toEqual(expected)
    const start = await runCli(['start', '--data-dir', dir, '--api-port', '0', '--listen', '/ip4/127.0.0.1/tcp/0'])
    expect(start.code).toBe(3)
    expect(problemLines(start.stderr)).toEqual(expected)
  })

  it('config without show or check is a usage error', async () => {
    for (const args of [['config'], ['config', 'edit'], ['config', 'show', 'extra'], ['config', 'check', '--bogus']]) {
      const result = await runCli(args)
      expect(result.code, args.join(' ')).toBe(2)
      expect(result.stderr).toMatch(/^cdgossip config: /)
    }
  })
})
