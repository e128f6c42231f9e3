import fs from 'node:fs/promises'
import os from 'node:os'
import path from 'node:path'
import { describe, expect, it, onTestFinished } from 'vitest'
import { stringify as toYaml } from 'yaml'
import {
  ConfigError,
  DEFAULT_API_PORT,
  DEFAULT_BODY_LIMIT,
  DEFAULT_NETWORK,
  defaultConfig,
  loadConfig,
  parsePort,
  readConfigFile,
  resolveDataDir
} from '../../src/config.js'
import type { ConfigProblem, NodeConfig } from '../../src/config.js'

async function tempDir (): Promise<string> {
  const dir = await fs.mkdtemp(path.join(os.tmpdir(), 'cdgossip-config-'))
  onTestFinished(async () => { await fs.rm(dir, { recursive: true, force: true }) })
  return dir
}

async function withFile (name: string, content: unknown): Promise<string> {
  const dir = await tempDir()
  const text = typeof content === 'string' ? content : name.endsWith('.json') ? JSON.stringify(content) : toYaml(content)
  await fs.writeFile(path.join(dir, name), text)
  return dir
}

/** The ConfigError a load throws, so a test can look at every problem it names. */
async function problemsOf (load: Promise<unknown>): Promise<ConfigProblem[]> {
  const err = await load.then(() => undefined, (e: unknown) => e)
  expect(err).toBeInstanceOf(ConfigError)
  expect((err as ConfigError).code).toBe('CDG_CONFIG')
  return (err as ConfigError).details?.problems ?? []
}

const NO_ENV: NodeJS.ProcessEnv = {}

/** Real Ed25519 peer IDs: trust entries and bootstrap addresses are checked at load, as `start` checks them. */
const PEER = {
  tekton: '12D3KooWMDphWVc1XENFwvmSLmQZZ3X6SVWB9oDwcCCnUHmmvr3z',
  file: '12D3KooWENtmzKmggURNFauus7gGSCW9ZVqeaaLNap6ihRrFaTh1',
  env1: '12D3KooWJnUbGJTr7WouZikFse63LsdETfSCftbb61cPvziKrFCc',
  env2: '12D3KooWB1F7TgQTwav1XZwKmqQ347FqfGvZBRVGqWNtyVVFAVSE',
  flag: '12D3KooWCPnBprnajDMWD6nswoBtpfUkqtghxWTofhiZCr7JkVSE'
}

describe('config: defaults', () => {
  it('an empty data dir gives the documented defaults', async () => {
    const dir = await tempDir()
    const config = await loadConfig({ dataDir: dir }, NO_ENV)
    const expected: NodeConfig = {
      dataDir: path.resolve(dir),
      network: DEFAULT_NETWORK,
      api: { host: '127.0.0.1', port: DEFAULT_API_PORT, bodyLimit: DEFAULT_BODY_LIMIT },
      p2p: { listen: ['/ip4/0.0.0.0/tcp/4001'], bootstrap: [], mdns: false, relay: [], heartbeatMs: 1000, targetConnections: 8 },
      sync: { intervalSeconds: 30 },
      trace: { resolveMaxReferences: 64, resolveMaxRounds: 3, resolveTimeoutMs: 3000 },
      trust: { mode: 'allowlist', communities: [] },
      subscriptions: [],
      hooks: { listen: '127.0.0.1:7071', bodyLimit: 1024 * 1024 },
      sources: [],
      community: { heartbeatMs: 2000 },
      log: { level: 'info' }
    }
    expect(config).toEqual(expected)
    expect(config).toEqual(defaultConfig(path.resolve(dir)))
    expect(DEFAULT_NETWORK).toBe('cdgossip')
    expect(DEFAULT_API_PORT).toBe(7070)
    expect(DEFAULT_BODY_LIMIT).toBe(1024 * 1024)
  })

  it('the data dir comes from the flag, then CDGOSSIP_DATA_DIR, then ~/.cdgossip', () => {
    expect(resolveDataDir({ dataDir: '/srv/a' }, { CDGOSSIP_DATA_DIR: '/srv/b' })).toBe('/srv/a')
    expect(resolveDataDir({}, { CDGOSSIP_DATA_DIR: '/srv/b' })).toBe('/srv/b')
    expect(resolveDataDir({}, {})).toBe(path.join(os.homedir(), '.cdgossip'))
    expect(resolveDataDir({}, { CDGOSSIP_DATA_DIR: '' })).toBe(path.join(os.homedir(), '.cdgossip'))
    expect(resolveDataDir({ dataDir: 'rel' }, {})).toBe(path.resolve('rel'))
  })

  it('an empty YAML file, or one holding {}, is the defaults', async () => {
    for (const text of ['', '# only a comment\n', '{}\n']) {
      const dir = await withFile('config.yaml', text)
      expect(await loadConfig({ dataDir: dir }, NO_ENV)).toEqual(defaultConfig(path.resolve(dir)))
    }
  })
})

describe('config: file < env < flags', () => {
  const file = {
    network: 'from-file',
    api: { port: 7001, host: '127.0.0.2' },
    p2p: { listen: ['/ip4/127.0.0.1/tcp/4101'], bootstrap: [`/ip4/10.0.0.1/tcp/4001/p2p/${PEER.file}`], heartbeatMs: 250 },
    sync: { intervalSeconds: 5 },
    trust: { mode: 'open', communities: [{ peerId: PEER.tekton, name: 'tekton', sources: ['https://tekton.example.org/'], classes: ['pipelinerun.*'] }] },
    subscriptions: [{ id: 'releases', classes: ['artifact.published'] }],
    log: { level: 'debug', pretty: false }
  }

  for (const name of ['config.yaml', 'config.yml', 'config.json']) {
    it(`the file (${name}) overrides the defaults, key by key`, async () => {
      const dir = await withFile(name, file)
      const config = await loadConfig({ dataDir: dir }, NO_ENV)
      expect(config.network).toBe('from-file')
      // keys the file does not name keep their defaults
      expect(config.api).toEqual({ host: '127.0.0.2', port: 7001, bodyLimit: DEFAULT_BODY_LIMIT })
      expect(config.p2p).toEqual({ listen: ['/ip4/127.0.0.1/tcp/4101'], bootstrap: [`/ip4/10.0.0.1/tcp/4001/p2p/${PEER.file}`], mdns: false, relay: [], heartbeatMs: 250, targetConnections: 8 })
      expect(config.sync.intervalSeconds).toBe(5)
      expect(config.trust).toEqual(file.trust)
      expect(config.subscriptions).toEqual(file.subscriptions)
      expect(config.log).toEqual({ level: 'debug', pretty: false })
    })
  }

  it('the environment overrides the file', async () => {
    const dir = await withFile('config.yaml', file)
    const config = await loadConfig({ dataDir: dir }, {
      CDGOSSIP_NETWORK: 'from-env',
      CDGOSSIP_API_HOST: '127.0.0.3',
      CDGOSSIP_API_PORT: '7002',
      CDGOSSIP_P2P_PORT: '4102',
      CDGOSSIP_PEERS: `/ip4/10.0.0.2/tcp/4001/p2p/${PEER.env1}, /ip4/10.0.0.3/tcp/4001/p2p/${PEER.env2}`,
      CDGOSSIP_MDNS: 'true',
      CDGOSSIP_LOG_LEVEL: 'warn'
    })
    expect(config.network).toBe('from-env')
    expect(config.api.host).toBe('127.0.0.3')
    expect(config.api.port).toBe(7002)
    expect(config.p2p.listen).toEqual(['/ip4/0.0.0.0/tcp/4102'])
    // peers from the environment add to the file's
    expect(config.p2p.bootstrap).toEqual([`/ip4/10.0.0.1/tcp/4001/p2p/${PEER.file}`, `/ip4/10.0.0.2/tcp/4001/p2p/${PEER.env1}`, `/ip4/10.0.0.3/tcp/4001/p2p/${PEER.env2}`])
    expect(config.p2p.mdns).toBe(true)
    expect(config.log.level).toBe('warn')
  })

  it('flags override the environment and the file', async () => {
    const dir = await withFile('config.json', file)
    const env = { CDGOSSIP_NETWORK: 'from-env', CDGOSSIP_API_PORT: '7002', CDGOSSIP_P2P_PORT: '4102', CDGOSSIP_MDNS: 'true', CDGOSSIP_LOG_LEVEL: 'warn', CDGOSSIP_PEERS: `/ip4/10.0.0.2/tcp/4001/p2p/${PEER.env1}` }
    const config = await loadConfig({
      dataDir: dir,
      network: 'from-flags',
      apiHost: '127.0.0.4',
      apiPort: 0,
      listen: ['/ip4/127.0.0.1/tcp/0'],
      peers: [`/ip4/10.0.0.9/tcp/4001/p2p/${PEER.flag}`],
      mdns: false,
      relay: ['*'],
      logLevel: 'error'
    }, env)
    expect(config.network).toBe('from-flags')
    expect(config.api.host).toBe('127.0.0.4')
    expect(config.api.port).toBe(0)
    // --listen beats CDGOSSIP_P2P_PORT even though both set p2p.listen
    expect(config.p2p.listen).toEqual(['/ip4/127.0.0.1/tcp/0'])
    expect(config.p2p.bootstrap).toEqual([`/ip4/10.0.0.1/tcp/4001/p2p/${PEER.file}`, `/ip4/10.0.0.2/tcp/4001/p2p/${PEER.env1}`, `/ip4/10.0.0.9/tcp/4001/p2p/${PEER.flag}`])
    expect(config.p2p.mdns).toBe(false)
    expect(config.p2p.relay).toEqual(['*'])
    expect(config.log.level).toBe('error')
  })

  it('a --p2p-port flag beats the file and the environment', async () => {
    const dir = await withFile('config.yaml', file)
    const config = await loadConfig({ dataDir: dir, p2pPort: 4999 }, { CDGOSSIP_P2P_PORT: '4102' })
    expect(config.p2p.listen).toEqual(['/ip4/0.0.0.0/tcp/4999'])
  })

  it('the data dir of CDGOSSIP_DATA_DIR is the one whose file is read', async () => {
    const dir = await withFile('config.yaml', { network: 'env-dir' })
    const config = await loadConfig({}, { CDGOSSIP_DATA_DIR: dir })
    expect(config.dataDir).toBe(path.resolve(dir))
    expect(config.network).toBe('env-dir')
  })
})

describe('config: refused input names the key', () => {
  it('an unknown key, at any depth', async () => {
    const dir = await withFile('config.yaml', { netwrok: 'typo', api: { prot: 7070 }, zzz: 1, trust: { communities: [{ peerId: PEER.tekton, name: 'n', sources: ['s'], sourecs: [] }] } })
    const file = path.join(dir, 'config.yaml')
    const problems = await problemsOf(loadConfig({ dataDir: dir }, NO_ENV))
    expect(problems).toEqual(expect.arrayContaining([
      { source: file, key: 'netwrok', message: 'unknown field, did you mean network?' },
      { source: file, key: 'api.prot', message: 'unknown field, did you mean port?' },
      { source: file, key: 'trust.communities[0].sourecs', message: 'unknown field, did you mean sources?' }
    ]))
    // nothing close: the known keys instead of a guess
    expect(problems.find(p => p.key === 'zzz')?.message).toBe('unknown field (known: network, api, p2p, sync, trace, trust, subscriptions, hooks, sources, community, log)')
    expect(problems).toHaveLength(4)
  })

  it('every bad value in one error, each with its key and what is expected', async () => {
    const dir = await withFile('config.json', {
      network: 'Not A Name',
      api: { port: 70000, bodyLimit: 'big' },
      p2p: { heartbeatMs: 10, mdns: 'yes' },
      trust: { mode: 'strict', communities: [{ name: 'x', sources: [] }] },
      log: { level: 'loud' }
    })
    const problems = await problemsOf(loadConfig({ dataDir: dir }, NO_ENV))
    const byKey = new Map(problems.map(p => [p.key, p.message]))
    expect(byKey.get('network')).toBe('must be 1-63 lowercase letters, digits and dashes, starting with a letter or digit, got "Not A Name"')
    expect(byKey.get('api.port')).toMatch(/<= 65535/)
    expect(byKey.get('api.bodyLimit')).toBe('must be a whole number, got "big"')
    expect(byKey.get('p2p.heartbeatMs')).toMatch(/>= 50/)
    expect(byKey.get('p2p.mdns')).toBe('must be true or false, got "yes"')
    expect(byKey.get('trust.mode')).toBe('must be one of "allowlist", "open"')
    // trust/'s validator reports an entry's first problem
    expect(byKey.get('trust.communities[0].peerId')).toBe('is required')
    expect(byKey.get('log.level')).toMatch(/must be one of "fatal"/)
  })

  it('a file that is not YAML or not JSON', async () => {
    const yaml = await withFile('config.yaml', 'network: [unclosed\n')
    expect((await problemsOf(loadConfig({ dataDir: yaml }, NO_ENV)))[0]?.key).toBe('(file)')
    const json = await withFile('config.json', '{"network": ')
    expect((await problemsOf(loadConfig({ dataDir: json }, NO_ENV)))[0]?.key).toBe('(file)')
    const list = await withFile('config.yaml', '- a\n- b\n')
    expect((await problemsOf(loadConfig({ dataDir: list }, NO_ENV)))[0]?.key).toBe('(root)')
  })

  it('two config files: refused rather than one silently ignored', async () => {
    const dir = await withFile('config.yaml', { network: 'yaml' })
    await fs.writeFile(path.join(dir, 'config.json'), JSON.stringify({ network: 'json' }))
    const problems = await problemsOf(readConfigFile(dir))
    expect(problems[0]?.key).toBe('(file)')
    expect(problems[0]?.message).toMatch(/config\.yaml.*config\.json/)
  })

  it('bad environment values name the variable', async () => {
    const dir = await tempDir()
    const problems = await problemsOf(loadConfig({ dataDir: dir }, {
      CDGOSSIP_API_PORT: 'abc',
      CDGOSSIP_P2P_PORT: '65536',
      CDGOSSIP_MDNS: 'maybe',
      CDGOSSIP_LOG_LEVEL: 'chatty',
      CDGOSSIP_NETWORK: 'UPPER'
    }))
    const byKey = new Map(problems.map(p => [p.key, p.message]))
    expect(byKey.get('env CDGOSSIP_API_PORT')).toMatch(/port number.*"abc"/)
    expect(byKey.get('env CDGOSSIP_P2P_PORT')).toMatch(/port number.*"65536"/)
    expect(byKey.get('env CDGOSSIP_MDNS')).toMatch(/true or false/)
    expect(byKey.get('env CDGOSSIP_LOG_LEVEL')).toMatch(/one of fatal, error/)
    expect(byKey.get('env CDGOSSIP_NETWORK')).toMatch(/^must be 1-63 lowercase letters/)
    expect(problems).toHaveLength(5)
  })

  it('numbers in the environment are plain decimal ports', async () => {
    const dir = await tempDir()
    for (const raw of [' ', '0x1f90', '1e3', '-1', '80.5', '7070abc']) {
      const problems = await problemsOf(loadConfig({ dataDir: dir }, { CDGOSSIP_API_PORT: raw }))
      expect(problems.map(p => p.key)).toEqual(['env CDGOSSIP_API_PORT'])
    }
    expect((await loadConfig({ dataDir: dir }, { CDGOSSIP_API_PORT: '8080' })).api.port).toBe(8080)
    expect((await loadConfig({ dataDir: dir }, { CDGOSSIP_API_PORT: '' })).api.port).toBe(DEFAULT_API_PORT)
    expect(parsePort('0')).toBe(0)
    expect(parsePort('65535')).toBe(65535)
    expect(parsePort('65536')).toBeUndefined()
    expect(parsePort('')).toBeUndefined()
  })

  it('bad flag values name the config key', async () => {
    const dir = await tempDir()
    const problems = await problemsOf(loadConfig({ dataDir: dir, apiPort: 1.5, p2pPort: -1, network: '-x', logLevel: 'loud' }, NO_ENV))
    expect(problems.map(p => p.key).sort()).toEqual(['api.port', 'log.level', 'network', 'p2p.listen'])
  })
})

describe('config: the result', () => {
  it('is deeply frozen', async () => {
    const dir = await withFile('config.yaml', { trust: { communities: [{ peerId: PEER.tekton, name: 'n', sources: ['https://a.example/'] }] }, subscriptions: [{ classes: ['*'] }] })
    const config = await loadConfig({ dataDir: dir }, NO_ENV)
    expect(Object.isFrozen(config)).toBe(true)
    expect(Object.isFrozen(config.api)).toBe(true)
    expect(Object.isFrozen(config.p2p.listen)).toBe(true)
    expect(Object.isFrozen(config.trust.communities[0])).toBe(true)
    expect(Object.isFrozen(config.trust.communities[0]?.sources)).toBe(true)
    expect(Object.isFrozen(config.subscriptions[0])).toBe(true)
    expect(() => { (config.api as { port: number }).port = 1 }).toThrow(TypeError)
    expect(() => { (config.p2p.listen as string[]).push('/ip4/1.2.3.4/tcp/1') }).toThrow(TypeError)
  })

  it('loading twice does not share state between results (defaults are fresh objects)', async () => {
    const dir = await tempDir()
    const a = await loadConfig({ dataDir: dir, relay: ['artifact.*'] }, NO_ENV)
    const b = await loadConfig({ dataDir: dir }, NO_ENV)
    expect(a.p2p.relay).toEqual(['artifact.*'])
    expect(b.p2p.relay).toEqual([])
  })
})
