import fs from 'node:fs/promises'
import os from 'node:os'
import path from 'node:path'
import { describe, expect, it, onTestFinished } from 'vitest'
import { parse as parseYaml } from 'yaml'
import { CONFIG_FILE_SCHEMA, defaultConfig, loadConfig } from '../../src/config.js'
import { STARTER_DOCS, starterConfig } from '../../src/config-starter.js'
import { dataDirPaths, initDataDir } from '../../src/data-dir.js'

const PEER = '12D3KooWMDphWVc1XENFwvmSLmQZZ3X6SVWB9oDwcCCnUHmmvr3z'

async function initialised (options: Parameters<typeof initDataDir>[1] = {}): Promise<{ dir: string, file: string }> {
  const parent = await fs.mkdtemp(path.join(os.tmpdir(), 'cdgossip-starter-'))
  onTestFinished(async () => { await fs.rm(parent, { recursive: true, force: true }) })
  const dir = path.join(parent, 'node')
  await initDataDir(dir, options)
  return { dir, file: dataDirPaths(dir).config }
}

const SECTIONS = Object.keys(CONFIG_FILE_SCHEMA.properties)

/** What a user does to a starter file: remove `# ` before every section line and setting line. */
function uncommentAll (text: string): string {
  const section = new RegExp(`^# ((${SECTIONS.join('|')}):.*)$`)
  return text.split('\n').map(line => section.exec(line)?.[1] ?? /^# {3}([A-Za-z]+:.*)$/.exec(line)?.[1]?.replace(/^/, '  ') ?? line).join('\n')
}

describe('the starter config.yaml of init', () => {
  it('is comments only: it loads as the defaults', async () => {
    const { dir, file } = await initialised()
    const text = await fs.readFile(file, 'utf8')
    expect(parseYaml(text)).toBeNull()
    expect(await loadConfig({ dataDir: dir }, {})).toEqual(defaultConfig(path.resolve(dir)))
    // every section is there, commented out
    for (const section of SECTIONS) expect(text).toMatch(new RegExp(`^# ${section}:`, 'm'))
  })

  it('shows the true defaults: uncommented, it is the default configuration', async () => {
    const { dir, file } = await initialised()
    await fs.writeFile(file, uncommentAll(await fs.readFile(file, 'utf8')))
    const parsed = parseYaml(await fs.readFile(file, 'utf8')) as Record<string, unknown>
    expect(Object.keys(parsed)).toEqual(SECTIONS)
    // log.pretty is unset by default (TTY decides); the starter shows it as an example
    expect(await loadConfig({ dataDir: dir }, {})).toEqual({ ...defaultConfig(path.resolve(dir)), log: { level: 'info', pretty: true } })
  })

  it('takes an appended YAML block (the `{}` body it replaced made that a YAML error)', async () => {
    const { dir, file } = await initialised()
    await fs.appendFile(file, [
      'trust:',
      '  communities:',
      `    - { peerId: ${PEER}, name: tekton, sources: [https://tekton.example.org/] }`,
      'p2p:',
      "  relay: ['artifact.*']",
      ''
    ].join('\n'))
    const config = await loadConfig({ dataDir: dir }, {})
    expect(config.trust.communities).toEqual([{ peerId: PEER, name: 'tekton', sources: ['https://tekton.example.org/'] }])
    expect(config.p2p.relay).toEqual(['artifact.*'])
  })

  it('writes the settings given to init live, the rest of their section commented', async () => {
    const { dir, file } = await initialised({ network: 'cdf', apiPort: 7171, p2pPort: 4141 })
    const text = await fs.readFile(file, 'utf8')
    expect(parseYaml(text)).toEqual({ network: 'cdf', api: { port: 7171 }, p2p: { listen: ['/ip4/0.0.0.0/tcp/4141'] } })
    expect(text).toContain('api:\n')
    expect(text).toMatch(/^ {2}# host: 127\.0\.0\.1$/m)
    const config = await loadConfig({ dataDir: dir }, {})
    expect(config.api).toEqual({ host: '127.0.0.1', port: 7171, bodyLimit: 1024 * 1024 })
    // a section with a live key takes more keys by uncommenting them
    await fs.writeFile(file, text.replace('  # bodyLimit: 1048576', '  bodyLimit: 65536'))
    expect((await loadConfig({ dataDir: dir }, {})).api.bodyLimit).toBe(65536)
  })

  it('explains every key of the schema (a new key needs a line in STARTER_DOCS)', () => {
    const keys = Object.entries(CONFIG_FILE_SCHEMA.properties).flatMap(([section, schema]) => {
      const properties = (schema as { properties?: Record<string, unknown> }).properties
      return properties === undefined ? [section] : [section, ...Object.keys(properties).map(k => `${section}.${k}`)]
    })
    expect(keys.filter(k => STARTER_DOCS[k] === undefined)).toEqual([])
    const text = starterConfig()
    for (const key of keys) expect(text).toContain(STARTER_DOCS[key]?.split('\n')[0])
  })
})
