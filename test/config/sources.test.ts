import { describe, expect, it } from 'vitest'
import { configFileProblems, loadConfig, ConfigError } from '../../src/config.js'
import type { ConfigProblem } from '../../src/config.js'
import fs from 'node:fs/promises'
import os from 'node:os'
import path from 'node:path'
import { onTestFinished } from 'vitest'

const FILE = '/etc/cdgossip/config.yaml'

function problems (value: unknown): Array<Omit<ConfigProblem, 'source'>> {
  return configFileProblems(value, FILE).map(({ key, message }) => ({ key, message }))
}

const nexus = { name: 'nexus', kind: 'nexus', secretFile: '/etc/cdgossip/nexus.secret', settings: { url: 'https://nexus.example.org' } }

describe('config: sources and hooks', () => {
  it('accepts valid sources and hooks settings', () => {
    expect(problems({
      hooks: { listen: '0.0.0.0:7071', bodyLimit: 65536 },
      sources: [nexus, { name: 'ci-1', kind: 'jenkins', secretEnv: 'JENKINS_HOOK_TOKEN', previousSecretEnv: 'JENKINS_HOOK_TOKEN_OLD', settings: { user: 'jenkins' } }]
    })).toEqual([])
    expect(problems({ hooks: { listen: '[::1]:7071' } })).toEqual([])
  })

  it('names the path of every problem of a source, the kind\'s own settings included', () => {
    const found = problems({
      sources: [
        { ...nexus, name: 'nexus-0' , settings: { url: 'ftp://nexus' } },
        { name: 'Bad_Name', kind: 'jenkins', secretEnv: 'X' },
        { name: 'x', kind: 'svn', secretEnv: 'X' },
        { name: 'y', kind: 'jenkins' },
        { name: 'z', kind: 'jenkins', secretFile: '/a', secretEnv: 'B' },
        { name: 'w', kind: 'jenkins', secretEnv: 'NOT-A-VARIABLE' },
        { name: 'v', kind: 'jenkins', secretEnv: 'V', secretfile: '/typo' },
        { name: 'u', kind: 'nexus', secretEnv: 'U' },
        nexus,
        { ...nexus }
      ]
    })
    expect(found).toEqual(expect.arrayContaining([
      { key: 'sources[0].settings.url', message: expect.stringContaining('url') },
      { key: 'sources[1].name', message: expect.stringContaining('lowercase letters, digits and dashes') },
      { key: 'sources[2].kind', message: expect.stringContaining('github, gitlab, gerrit, jenkins') },
      { key: 'sources[3].secretFile', message: 'give exactly one of secretFile and secretEnv' },
      { key: 'sources[4].secretEnv', message: 'give exactly one of secretFile and secretEnv' },
      { key: 'sources[5].secretEnv', message: expect.stringContaining('environment variable name') },
      { key: 'sources[6].secretfile', message: 'unknown field, did you mean secretFile?' },
      { key: 'sources[7].settings.url', message: expect.stringContaining('url') },
      { key: 'sources[9].name', message: 'nexus is already the name of sources[8]' }
    ]))
    expect(found).toHaveLength(9)
  })

  it('refuses a hooks.listen that is not host:port and unknown hooks keys', () => {
    expect(problems({ hooks: { listen: '7071' } })).toEqual([{ key: 'hooks.listen', message: expect.stringContaining('must be host:port') }])
    expect(problems({ hooks: { port: 7071 } })).toEqual([{ key: 'hooks.port', message: expect.stringContaining('unknown field') }])
    expect(problems({ sources: {} })).toEqual([{ key: 'sources', message: expect.stringContaining('a list') }])
  })

  it('--hooks-port sets the port and keeps hooks.listen\'s host; a bad one is a problem of the command line', async () => {
    const dir = await fs.mkdtemp(path.join(os.tmpdir(), 'cdgossip-sources-'))
    onTestFinished(async () => { await fs.rm(dir, { recursive: true, force: true }) })
    await fs.writeFile(path.join(dir, 'config.yaml'), 'hooks:\n  listen: 0.0.0.0:9000\n')
    expect((await loadConfig({ dataDir: dir, hooksPort: 9100 }, {})).hooks.listen).toBe('0.0.0.0:9100')
    expect((await loadConfig({ dataDir: dir }, {})).hooks.listen).toBe('0.0.0.0:9000')
    await expect(loadConfig({ dataDir: dir, hooksPort: 70000 }, {})).rejects.toThrow(ConfigError)
    await expect(loadConfig({ dataDir: dir, hooksPort: 70000 }, {})).rejects.toThrow(/--hooks-port/)
  })
})
