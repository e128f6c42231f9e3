import fs from 'node:fs/promises'
import os from 'node:os'
import path from 'node:path'
import { describe, expect, it, onTestFinished } from 'vitest'
import { ConfigError, loadConfig } from '../../src/config.js'
import type { ConfigProblem } from '../../src/config.js'

async function tempDir (): Promise<string> {
  const dir = await fs.mkdtemp(path.join(os.tmpdir(), 'cdgossip-config-'))
  onTestFinished(async () => { await fs.rm(dir, { recursive: true, force: true }) })
  return dir
}

async function problemsOf (load: Promise<unknown>): Promise<ConfigProblem[]> {
  const err = await load.then(() => undefined, (e: unknown) => e)
  expect(err).toBeInstanceOf(ConfigError)
  return (err as ConfigError).details?.problems ?? []
}

describe('config: p2p.targetConnections', () => {
  it('defaults to 8; the file, then CDGOSSIP_TARGET_CONNECTIONS, then the flag override it', async () => {
    const dir = await tempDir()
    expect((await loadConfig({ dataDir: dir }, {})).p2p.targetConnections).toBe(8)
    await fs.writeFile(path.join(dir, 'config.yaml'), 'p2p:\n  targetConnections: 3\n')
    expect((await loadConfig({ dataDir: dir }, {})).p2p.targetConnections).toBe(3)
    expect((await loadConfig({ dataDir: dir }, { CDGOSSIP_TARGET_CONNECTIONS: '5' })).p2p.targetConnections).toBe(5)
    expect((await loadConfig({ dataDir: dir, targetConnections: 12 }, { CDGOSSIP_TARGET_CONNECTIONS: '5' })).p2p.targetConnections).toBe(12)
  })

  it('refuses values outside 1–100, naming the key or the variable', async () => {
    const dir = await tempDir()
    expect(await problemsOf(loadConfig({ dataDir: dir, targetConnections: 0 }, {}))).toEqual([
      expect.objectContaining({ key: 'p2p.targetConnections' })
    ])
    expect(await problemsOf(loadConfig({ dataDir: dir }, { CDGOSSIP_TARGET_CONNECTIONS: 'many' }))).toEqual([
      expect.objectContaining({ key: 'env CDGOSSIP_TARGET_CONNECTIONS' })
    ])
    await fs.writeFile(path.join(dir, 'config.yaml'), 'p2p:\n  targetConnections: 1000\n')
    const problems = await problemsOf(loadConfig({ dataDir: dir }, {}))
    expect(problems.map((p) => p.key).join()).toContain('targetConnections')
  })
})
