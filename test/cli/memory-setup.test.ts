/**
 * `cdgossip start` preloads jemalloc when it is installed and caps V8's young generation where V8
 * would make it larger (src/cli/memory-setup.ts): the decisions on every kind of environment, and
 * the real start on this machine: re-executed with its library and flag, or the reason it is not.
 * .ci/run installs Debian's libjemalloc2, so in CI (CI=true) a node on a Node.js that can
 * re-execute must come up with jemalloc.
 */
import fs from 'node:fs'
import os from 'node:os'
import path from 'node:path'
import { describe, expect, it, onTestFinished } from 'vitest'
import {
  DEFAULT_SEMI_SPACE_MIB, JEMALLOC_PATHS, PRELOADED, YOUNG_GENERATION_SET, chooseMalloc, chooseYoungGeneration, installedJemalloc,
  loadedJemalloc, restorePreload, takeYoungGenerationMarker, thisProcess, thisYoungGeneration
} from '../../src/cli/memory-setup.js'
import type { MallocSituation, YoungGenerationSituation } from '../../src/cli/memory-setup.js'
import { BUILT, SKIP_REASON, makeTempDir, removeDir, runCli, startNode } from './cli-helpers.js'

const LIB = '/usr/lib/x86_64-linux-gnu/libjemalloc.so.2'

function situation (over: Partial<MallocSituation> = {}): MallocSituation {
  return {
    env: {},
    platform: 'linux',
    canReexec: true,
    loadedJemalloc: () => undefined,
    installedJemalloc: (paths) => paths.includes(LIB) ? LIB : undefined,
    ...over
  }
}

describe('which malloc `cdgossip start` runs with', () => {
  it('re-executes with the installed jemalloc preloaded, marking the new process', () => {
    const decision = chooseMalloc(situation({ env: { PATH: '/usr/bin' } }))
    expect(decision).toEqual({ action: 'reexec', library: LIB, env: { PATH: '/usr/bin', LD_PRELOAD: LIB, [PRELOADED]: '1' } })
  })

  it('never re-executes twice, and says so when the preload did not take', () => {
    expect(chooseMalloc(situation({ env: { LD_PRELOAD: LIB, [PRELOADED]: '1' } })))
      .toEqual({ action: 'keep', reason: `the system's: preloading ${LIB} failed` })
    expect(chooseMalloc(situation({ env: { LD_PRELOAD: LIB, [PRELOADED]: '1' }, loadedJemalloc: () => LIB })))
      .toEqual({ action: 'keep', reason: `jemalloc ${LIB}` })
  })

  it('keeps the system malloc when asked, when another preload is set, or when it cannot re-execute', () => {
    expect(chooseMalloc(situation({ env: { CDGOSSIP_MALLOC: 'system' } }))).toEqual({ action: 'keep', reason: 'the system\'s: CDGOSSIP_MALLOC=system' })
    expect(chooseMalloc(situation({ env: { LD_PRELOAD: '/usr/lib/libfaketime.so' } })).action).toBe('keep')
    expect(chooseMalloc(situation({ canReexec: false }))).toMatchObject({ action: 'keep', reason: expect.stringContaining('22.15') })
    expect(chooseMalloc(situation({ platform: 'darwin' }))).toEqual({ action: 'keep', reason: 'the system\'s' })
  })

  it('tells how to install jemalloc when none is there', () => {
    expect(chooseMalloc(situation({ installedJemalloc: () => undefined })))
      .toMatchObject({ action: 'keep', reason: expect.stringContaining('apt-get install libjemalloc2') })
  })

  it('takes a library named by path, and refuses a path or value it cannot use', () => {
    const other = '/opt/jemalloc/lib/libjemalloc.so.2'
    expect(chooseMalloc(situation({ env: { CDGOSSIP_MALLOC: other }, installedJemalloc: (paths) => paths[0] }))).toMatchObject({ action: 'reexec', library: other })
    expect(chooseMalloc(situation({ env: { CDGOSSIP_MALLOC: other } }))).toEqual({ action: 'refuse', problem: `CDGOSSIP_MALLOC=${other}: no readable file there` })
    expect(chooseMalloc(situation({ env: { CDGOSSIP_MALLOC: 'jemalloc' } }))).toMatchObject({ action: 'refuse', problem: expect.stringContaining('use auto (the default), system, or the absolute path') })
  })

  it('reports a jemalloc that is already loaded, whatever put it there', () => {
    expect(chooseMalloc(situation({ env: { CDGOSSIP_MALLOC: 'system' }, loadedJemalloc: () => LIB }))).toEqual({ action: 'keep', reason: `jemalloc ${LIB}` })
  })

  it('gives the node\'s own child processes back an unset LD_PRELOAD', () => {
    const env: Record<string, string | undefined> = { LD_PRELOAD: LIB, [PRELOADED]: '1', PATH: '/usr/bin' }
    restorePreload(env)
    expect(env).toEqual({ PATH: '/usr/bin' })
    const untouched: Record<string, string | undefined> = { LD_PRELOAD: '/usr/lib/libfaketime.so' }
    restorePreload(untouched)
    expect(untouched).toEqual({ LD_PRELOAD: '/usr/lib/libfaketime.so' })
  })

  it('finds the library on disk and in a process\'s memory map', async () => {
    const dir = await makeTempDir('malloc-')
    onTestFinished(async () => { await removeDir(dir) })
    const lib = path.join(dir, 'libjemalloc.so.2')
    fs.writeFileSync(lib, '')
    expect(installedJemalloc([path.join(dir, 'absent.so'), lib])).toBe(lib)
    expect(installedJemalloc([path.join(dir, 'absent.so')])).toBeUndefined()
    const maps = path.join(dir, 'maps')
    fs.writeFileSync(maps, [
      '55d0c0a00000-55d0c0a01000 r--p 00000000 08:01 131 /usr/bin/node',
      `7f3b1c000000-7f3b1c200000 r-xp 00000000 08:01 7001 ${LIB}`,
      '7ffd5a5fe000-7ffd5a600000 r-xp 00000000 00:00 0 [vdso]'
    ].join('\n') + '\n')
    expect(loadedJemalloc(maps)).toBe(LIB)
    fs.writeFileSync(maps, '55d0c0a00000-55d0c0a01000 r--p 00000000 08:01 131 /usr/bin/node\n')
    expect(loadedJemalloc(maps)).toBeUndefined()
    expect(loadedJemalloc(path.join(dir, 'no-maps'))).toBeUndefined()
  })
})

const GIB = 1024 ** 3
const FLAG = `--max-semi-space-size=${DEFAULT_SEMI_SPACE_MIB}`

function young (over: Partial<YoungGenerationSituation> = {}): YoungGenerationSituation {
  return { execArgv: [], nodeOptions: undefined, nodeMajor: 24, memoryBytes: 24 * GIB, ...over }
}

describe('how large a young generation `cdgossip start` lets V8 have', () => {
  it('caps it on Node.js 24 with 2 GiB or more, where V8 would give it 128 MiB', () => {
    expect(chooseYoungGeneration(young())).toEqual({ flag: FLAG })
    expect(chooseYoungGeneration(young({ nodeMajor: 25, memoryBytes: 2 * GIB }))).toEqual({ flag: FLAG })
  })

  it('leaves V8\'s own size where the flag would raise it: Node.js 20 and 22, or under 2 GiB', () => {
    expect(chooseYoungGeneration(young({ nodeMajor: 22 }))).toEqual({ reason: 'V8\'s own size (semi-spaces of at most 16 MiB on Node.js 22)' })
    expect(chooseYoungGeneration(young({ nodeMajor: 20 })).flag).toBeUndefined()
    expect(chooseYoungGeneration(young({ memoryBytes: 2 * GIB - 1 }))).toEqual({ reason: `V8's own size (semi-spaces of at most ${DEFAULT_SEMI_SPACE_MIB} MiB with under 2 GiB of memory)` })
  })

  it('leaves a size given by hand alone, in any spelling V8 takes, in the flags or NODE_OPTIONS', () => {
    expect(chooseYoungGeneration(young({ execArgv: ['--max-semi-space-size=8'] }))).toEqual({ reason: '--max-semi-space-size=8 as given' })
    expect(chooseYoungGeneration(young({ execArgv: ['--max_semi_space_size', '64'] }))).toEqual({ reason: '--max_semi_space_size 64 as given' })
    expect(chooseYoungGeneration(young({ nodeOptions: '--enable-source-maps  --max-semi-space-size=16' }))).toEqual({ reason: '--max-semi-space-size=16 as given' })
    // a look-alike is not the flag
    expect(chooseYoungGeneration(young({ execArgv: ['--max-semi-space-sizes=8'] }))).toEqual({ flag: FLAG })
  })

  it('takes its marker out of the environment the node\'s own child processes get', () => {
    const env: Record<string, string | undefined> = { [YOUNG_GENERATION_SET]: '1', PATH: '/usr/bin' }
    expect(takeYoungGenerationMarker(env)).toBe(true)
    expect(env).toEqual({ PATH: '/usr/bin' })
    expect(takeYoungGenerationMarker(env)).toBe(false)
  })

  it('sees the memory a cgroup allows, not only the RAM', () => {
    const memory = thisYoungGeneration().memoryBytes
    expect(memory).toBeGreaterThan(0)
    expect(memory).toBeLessThanOrEqual(os.totalmem())
  })
})

const inCi = process.env.CI === 'true' || process.env.CI === '1'
const library = installedJemalloc(JEMALLOC_PATHS)
const canReexec = thisProcess().canReexec
const linux = process.platform === 'linux'
const capsYoungGeneration = canReexec && chooseYoungGeneration({ ...thisYoungGeneration(), execArgv: [], nodeOptions: undefined }).flag !== undefined

describe.skipIf(!BUILT || !linux)(`cdgossip start and its malloc${BUILT ? '' : ` (${SKIP_REASON})`}`, () => {
  async function dataDir (): Promise<string> {
    const dir = await makeTempDir('malloc-node-')
    onTestFinished(async () => { await removeDir(dir) })
    return dir
  }

  // one test for every machine: what the node must do depends on the runtime and the library
  it('re-executes itself on the same PID with jemalloc loaded when it can, and says what it runs with', async () => {
    const node = await startNode(await dataDir())
    try {
      const maps = fs.readFileSync(`/proc/${node.child.pid}/maps`, 'utf8')
      if (!canReexec) {
        // Node 20: no process.execve
        expect(node.stdout).toContain('  malloc    the system\'s: this Node.js cannot re-execute itself')
        expect(maps).not.toContain('libjemalloc')
      } else if (library === undefined && !inCi) {
        expect(node.stdout).toContain('  malloc    the system\'s: no jemalloc installed (apt-get install libjemalloc2')
      } else {
        expect(library, 'CI=true: .ci/run installs libjemalloc2').toBeDefined()
        expect(maps).toContain(library)
        expect(node.stdout).toContain(`  malloc    jemalloc ${library}`)
      }
    } finally {
      // the PID the test spawned is the node: SIGTERM reaches it and it stops gracefully
      expect((await node.stop()).code).toBe(0)
    }
  })

  it('keeps the system malloc with CDGOSSIP_MALLOC=system', async () => {
    const node = await startNode(await dataDir(), [], { CDGOSSIP_MALLOC: 'system' })
    try {
      expect(fs.readFileSync(`/proc/${node.child.pid}/maps`, 'utf8')).not.toContain('libjemalloc')
      expect(node.stdout).toContain('  malloc    the system\'s: CDGOSSIP_MALLOC=system')
    } finally {
      await node.stop()
    }
  })

  it('runs on with the system malloc when the library it names cannot be preloaded', async () => {
    const dir = await dataDir()
    const broken = path.join(dir, 'libjemalloc.so.2')
    fs.writeFileSync(broken, '')
    const node = await startNode(path.join(dir, 'node'), [], { CDGOSSIP_MALLOC: broken })
    try {
      expect(node.stdout).toContain(canReexec
        ? `  malloc    the system's: preloading ${broken} failed`
        : '  malloc    the system\'s: this Node.js cannot re-execute itself')
    } finally {
      expect((await node.stop()).code).toBe(0)
    }
  })

  it('caps the young generation where V8 would make it larger, and says what it runs with', async () => {
    const node = await startNode(await dataDir(), [], { NODE_OPTIONS: '' })
    try {
      const args = fs.readFileSync(`/proc/${node.child.pid}/cmdline`, 'utf8').split('\0')
      if (capsYoungGeneration) {
        expect(args).toContain(FLAG)
        expect(node.stdout).toContain(`  young gen ${FLAG} (cdgossip's default on Node.js 24 with 2 GiB or more`)
      } else {
        expect(args).not.toContain(FLAG)
        expect(node.stdout).toContain('  young gen V8\'s own size')
      }
    } finally {
      expect((await node.stop()).code).toBe(0)
    }
  })

  it('keeps a young generation size given in NODE_OPTIONS', async () => {
    const node = await startNode(await dataDir(), [], { NODE_OPTIONS: '--max-semi-space-size=8' })
    try {
      expect(fs.readFileSync(`/proc/${node.child.pid}/cmdline`, 'utf8').split('\0')).not.toContain(FLAG)
      expect(node.stdout).toContain('  young gen --max-semi-space-size=8 as given')
    } finally {
      expect((await node.stop()).code).toBe(0)
    }
  })

  it('refuses to start on a CDGOSSIP_MALLOC it cannot use, naming it (exit 3)', async () => {
    const result = await runCli(['start', '--data-dir', await dataDir()], { env: { CDGOSSIP_MALLOC: 'fast' } })
    expect(result.code).toBe(3)
    expect(result.stderr).toContain('cdgossip start: CDGOSSIP_MALLOC="fast": use auto (the default), system, or the absolute path of a libjemalloc.so.2')
  })
})
