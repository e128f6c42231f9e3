/**
 * The files in deploy/: the example configuration is valid and a node starts with it; the
 * systemd unit runs `cdgossip start` the way the CLI's graceful stop expects, hardened.
 */
import { spawnSync } from 'node:child_process'
import fs from 'node:fs/promises'
import os from 'node:os'
import path from 'node:path'
import { fileURLToPath } from 'node:url'
import { describe, expect, it, onTestFinished } from 'vitest'
import { loadConfig } from '../../src/config.js'
import { initDataDir } from '../../src/data-dir.js'

const REPO_ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..')
const EXAMPLE = path.join(REPO_ROOT, 'deploy', 'config.example.yaml')
const UNIT = path.join(REPO_ROOT, 'deploy', 'cdgossip.service')

async function dataDirWithExample (): Promise<string> {
  const dir = await fs.mkdtemp(path.join(os.tmpdir(), 'cdgossip-deploy-'))
  onTestFinished(async () => { await fs.rm(dir, { recursive: true, force: true }) })
  await fs.copyFile(EXAMPLE, path.join(dir, 'config.yaml'))
  return dir
}

/** `[Section]` → directive → values (a directive may repeat). */
function parseUnit (text: string): Map<string, Map<string, string[]>> {
  const sections = new Map<string, Map<string, string[]>>()
  let current: Map<string, string[]> | undefined
  for (const raw of text.split('\n')) {
    const line = raw.trim()
    if (line === '' || line.startsWith('#') || line.startsWith(';')) continue
    const section = /^\[(\w+)\]$/.exec(line)
    if (section !== null) {
      current = new Map()
      sections.set(section[1] as string, current)
      continue
    }
    const eq = line.indexOf('=')
    if (current === undefined || eq <= 0) throw new Error(`not a unit file line: ${line}`)
    const key = line.slice(0, eq)
    current.set(key, [...(current.get(key) ?? []), line.slice(eq + 1)])
  }
  return sections
}

describe('deploy/config.example.yaml', () => {
  it('is a valid configuration for a community node behind a firewall', async () => {
    const dir = await dataDirWithExample()
    const config = await loadConfig({ dataDir: dir }, {})
    expect(config.network).toBe('cdf')
    // the REST API stays on this host; p2p listens on the one port the comments say to open
    expect(config.api.host).toBe('127.0.0.1')
    expect(config.p2p.listen).toEqual(['/ip4/0.0.0.0/tcp/4001'])
    expect(config.p2p.mdns).toBe(false)
    expect(config.trust.mode).toBe('allowlist')
    const text = await fs.readFile(EXAMPLE, 'utf8')
    expect(text).toMatch(/open TCP 4001 INBOUND/)
    expect(text).toMatch(/do NOT open 7070/)
  })

  it('a node starts with it as it is (ports moved for the test)', async () => {
    const dir = await dataDirWithExample()
    await initDataDir(dir)
    const config = await loadConfig({ dataDir: dir, apiPort: 0, listen: ['/ip4/127.0.0.1/tcp/0'], logLevel: 'silent' }, {})
    const { createNode } = await import('../../src/node.js')
    const node = await createNode(config)
    onTestFinished(async () => { await node.stop() })
    await node.start()
    expect(node.listSubscriptions().map((s) => s.id)).toEqual(['releases'])
  })
})

describe('deploy/cdgossip.service', () => {
  it('runs cdgossip start on the state dir, stops it with SIGTERM and restarts only on failure', async () => {
    const unit = parseUnit(await fs.readFile(UNIT, 'utf8'))
    const service = unit.get('Service') as Map<string, string[]>
    const one = (key: string): string | undefined => {
      const values = service.get(key)
      expect(values, key).toHaveLength(1)
      return values?.[0]
    }
    expect(one('ExecStart')).toBe('/usr/bin/env cdgossip start --data-dir /var/lib/cdgossip')
    expect(one('KillSignal')).toBe('SIGTERM')
    expect(Number(one('TimeoutStopSec'))).toBeGreaterThan(0)
    expect(one('Restart')).toBe('on-failure')
    // exit 3 is a configuration error: restarting cannot fix it
    expect(one('RestartPreventExitStatus')).toBe('3')
    expect(one('StateDirectory')).toBe('cdgossip')
    expect(one('StateDirectoryMode')).toBe('0700')
    expect(one('ReadWritePaths')).toBe('/var/lib/cdgossip')
    expect(one('User')).toBe('cdgossip')
    expect(one('NoNewPrivileges')).toBe('yes')
    expect(one('ProtectSystem')).toBe('strict')
    expect(one('ProtectHome')).toBe('yes')
    expect(one('PrivateTmp')).toBe('yes')
    expect(one('CapabilityBoundingSet')).toBe('')
    expect(one('UMask')).toBe('0077')
    // V8's JIT needs writable+executable memory
    expect(service.has('MemoryDenyWriteExecute')).toBe(false)
    expect(unit.get('Install')?.get('WantedBy')).toEqual(['multi-user.target'])
  })

  const analyze = spawnSync('systemd-analyze', ['--version'])
  it.skipIf(analyze.status !== 0)('systemd-analyze verify accepts it' + (analyze.status !== 0 ? ' (skipped: no systemd-analyze)' : ''), async () => {
    const dir = await fs.mkdtemp(path.join(os.tmpdir(), 'cdgossip-unit-'))
    onTestFinished(async () => { await fs.rm(dir, { recursive: true, force: true }) })
    const copy = path.join(dir, 'cdgossip.service')
    await fs.copyFile(UNIT, copy)
    const result = spawnSync('systemd-analyze', ['verify', copy], { encoding: 'utf8' })
    // a missing `cdgossip` user or binary on the test machine is not the unit's fault
    const problems = `${result.stdout}${result.stderr}`.split('\n').filter((l) => l.trim() !== '' && !/cdgossip.*(not found|No such file)|Failed to resolve user|Unknown user/i.test(l))
    expect(problems).toEqual([])
  })
})
