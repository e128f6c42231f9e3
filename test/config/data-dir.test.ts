import fs from 'node:fs/promises'
import os from 'node:os'
import path from 'node:path'
import { describe, expect, it, onTestFinished } from 'vitest'
import { parse as parseYaml } from 'yaml'
import { loadConfig } from '../../src/config.js'
import {
  MIN_TOKEN_LENGTH,
  createSecretFile,
  dataDirPaths,
  initDataDir,
  readApiToken,
  readApiUrl,
  removeApiUrl,
  writeApiUrl
} from '../../src/data-dir.js'
import { CdgossipError } from '../../src/errors.js'

async function tempParent (): Promise<string> {
  const dir = await fs.mkdtemp(path.join(os.tmpdir(), 'cdgossip-datadir-'))
  onTestFinished(async () => { await fs.rm(dir, { recursive: true, force: true }) })
  return dir
}

const modeOf = async (p: string): Promise<number> => (await fs.stat(p)).mode & 0o777

async function codeOf (p: Promise<unknown>): Promise<string | undefined> {
  const err = await p.then(() => undefined, (e: unknown) => e)
  expect(err).toBeInstanceOf(CdgossipError)
  return (err as CdgossipError).code
}

describe('initDataDir', () => {
  it('creates the dir 0700, the token 0600 and a starter config that loads', async () => {
    const dir = path.join(await tempParent(), 'node')
    const result = await initDataDir(dir, { network: 'cdf', apiPort: 7171, p2pPort: 4141 })
    expect(result).toEqual({ dataDir: dir, created: { dataDir: true, token: true, config: true } })
    const paths = dataDirPaths(dir)
    expect(await modeOf(dir)).toBe(0o700)
    expect(await modeOf(paths.token)).toBe(0o600)
    expect(await modeOf(paths.config)).toBe(0o600)
    const token = await readApiToken(dir)
    expect(token).toMatch(/^[A-Za-z0-9_-]{43}$/)
    expect(parseYaml(await fs.readFile(paths.config, 'utf8'))).toEqual({ network: 'cdf', api: { port: 7171 }, p2p: { listen: ['/ip4/0.0.0.0/tcp/4141'] } })
    const config = await loadConfig({ dataDir: dir }, {})
    expect(config.network).toBe('cdf')
    expect(config.api.port).toBe(7171)
    // no temp files left behind
    expect((await fs.readdir(dir)).sort()).toEqual(['api-token', 'config.yaml'])
  })

  it('never overwrites: a second init keeps the token and the config', async () => {
    const dir = path.join(await tempParent(), 'node')
    await initDataDir(dir)
    const token = await readApiToken(dir)
    const paths = dataDirPaths(dir)
    await fs.writeFile(paths.config, 'network: mine\n')
    const again = await initDataDir(dir, { network: 'other', apiPort: 1 })
    expect(again.created).toEqual({ dataDir: false, token: false, config: false })
    expect(await readApiToken(dir)).toBe(token)
    expect(await fs.readFile(paths.config, 'utf8')).toBe('network: mine\n')
  })

  it('concurrent inits agree on one token', async () => {
    const dir = path.join(await tempParent(), 'node')
    await fs.mkdir(dir, { mode: 0o700 })
    const results = await Promise.all([initDataDir(dir), initDataDir(dir), initDataDir(dir)])
    expect(results.filter(r => r.created.token)).toHaveLength(1)
    expect(results.filter(r => r.created.config)).toHaveLength(1)
    expect(await readApiToken(dir)).toMatch(/^[A-Za-z0-9_-]{43}$/)
  })

  it('a config.json is the config: no config.yaml is added beside it', async () => {
    const dir = await tempParent()
    await fs.writeFile(path.join(dir, 'config.json'), JSON.stringify({ network: 'json-net' }))
    const result = await initDataDir(dir)
    expect(result.created.config).toBe(false)
    expect(await fs.readdir(dir)).not.toContain('config.yaml')
    expect((await loadConfig({ dataDir: dir }, {})).network).toBe('json-net')
  })

  it('keeps the mode of a dir that already existed', async () => {
    const dir = await tempParent()
    await fs.chmod(dir, 0o750)
    expect((await initDataDir(dir)).created.dataDir).toBe(false)
    expect(await modeOf(dir)).toBe(0o750)
    expect(await modeOf(dataDirPaths(dir).token)).toBe(0o600)
  })
})

describe('readApiToken', () => {
  it('refuses a token file others can read, with the chmod that fixes it', async () => {
    const dir = await tempParent()
    await initDataDir(dir)
    const tokenPath = dataDirPaths(dir).token
    await fs.chmod(tokenPath, 0o644)
    const err = await readApiToken(dir).then(() => undefined, (e: unknown) => e)
    expect(err).toBeInstanceOf(CdgossipError)
    expect((err as CdgossipError).code).toBe('CDG_CONFIG')
    expect((err as Error).message).toContain(`chmod 600 ${tokenPath}`)
    await fs.chmod(tokenPath, 0o640)
    expect(await codeOf(readApiToken(dir))).toBe('CDG_CONFIG')
    await fs.chmod(tokenPath, 0o600)
    expect(await readApiToken(dir)).toMatch(/^[A-Za-z0-9_-]{43}$/)
  })

  it('refuses an empty or guessable token', async () => {
    const dir = await tempParent()
    const tokenPath = dataDirPaths(dir).token
    for (const token of ['', '\n', 'secret', 'x'.repeat(MIN_TOKEN_LENGTH - 1)]) {
      await fs.writeFile(tokenPath, token, { mode: 0o600 })
      expect(await codeOf(readApiToken(dir))).toBe('CDG_CONFIG')
    }
    await fs.writeFile(tokenPath, ' ' + 'x'.repeat(MIN_TOKEN_LENGTH) + '\n', { mode: 0o600 })
    expect(await readApiToken(dir)).toBe('x'.repeat(MIN_TOKEN_LENGTH))
  })

  it('a missing token file is ENOENT (the client turns it into "run cdgossip init")', async () => {
    const dir = await tempParent()
    const err = await readApiToken(dir).then(() => undefined, (e: unknown) => e)
    expect((err as NodeJS.ErrnoException).code).toBe('ENOENT')
  })
})

describe('secret and api-url files', () => {
  it('createSecretFile never replaces an existing file', async () => {
    const dir = await tempParent()
    const file = path.join(dir, 'secret')
    expect(await createSecretFile(file, 'one')).toBe(true)
    expect(await createSecretFile(file, 'two')).toBe(false)
    expect(await fs.readFile(file, 'utf8')).toBe('one')
    expect(await modeOf(file)).toBe(0o600)
    expect(await fs.readdir(dir)).toEqual(['secret'])
  })

  it('api-url: written whole, read back, removed; absent reads as undefined', async () => {
    const dir = await tempParent()
    expect(await readApiUrl(dir)).toBeUndefined()
    await writeApiUrl(dir, 'http://127.0.0.1:7070')
    expect(await readApiUrl(dir)).toBe('http://127.0.0.1:7070')
    await writeApiUrl(dir, 'http://127.0.0.1:7071')
    expect(await readApiUrl(dir)).toBe('http://127.0.0.1:7071')
    expect(await fs.readdir(dir)).toEqual(['api-url'])
    await removeApiUrl(dir)
    await removeApiUrl(dir)
    expect(await readApiUrl(dir)).toBeUndefined()
  })
})
