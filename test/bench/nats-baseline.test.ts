import { mkdtemp, rm } from 'node:fs/promises'
import os from 'node:os'
import path from 'node:path'
import { describe, expect, it } from 'vitest'
import { DEFAULT_OPTIONS, natsBaseline, withNats, type BenchContext } from '../../scripts/bench/context.js'
import { NATS_INSTALL_HINT } from '../../scripts/bench/nats.js'

describe('the NATS JetStream baseline', () => {
  it('is skipped with install instructions when nats-server is absent', async () => {
    const nats = await natsBaseline({ NATS_SERVER: '/nonexistent/bin/nats-server' })
    expect(nats).toEqual({ skipped: NATS_INSTALL_HINT })
    expect(NATS_INSTALL_HINT).toContain('apt-get install -y nats-server')
  })

  it('runs nothing for a part when skipped, and says why', async () => {
    const root = await mkdtemp(path.join(os.tmpdir(), 'cdgossip-bench-test-'))
    try {
      const ctx: BenchContext = {
        root,
        resultsDir: root,
        options: DEFAULT_OPTIONS,
        log: () => {},
        rabbit: { skipped: 'not under test' },
        nats: await natsBaseline({ NATS_SERVER: path.join(root, 'no-such-nats-server') })
      }
      let ran = false
      const result = await withNats(ctx, 'publish', async () => { ran = true })
      expect(ran).toBe(false)
      expect(result).toEqual({ skipped: NATS_INSTALL_HINT })
    } finally {
      await rm(root, { recursive: true, force: true })
    }
  })
})
