import { writeFile } from 'node:fs/promises'
import path from 'node:path'
import { describe, expect, it } from 'vitest'
import { createNode } from '../../src/node.js'
import { initDataDir } from '../../src/data-dir.js'
import { e2eConfig, tempDataDir } from '../helpers/nodes.js'

async function startWithManifest (content: string | undefined): Promise<unknown> {
  const dataDir = await tempDataDir('cdgossip-community-config-')
  await initDataDir(dataDir)
  const config = e2eConfig(dataDir)
  config.community.manifest = 'community.json'
  if (content !== undefined) await writeFile(path.join(dataDir, 'community.json'), content)
  const node = await createNode(config)
  const failed = await node.start().then(() => undefined, (err: unknown) => err)
  await node.stop()
  return failed
}

describe('config community.manifest', () => {
  it('refuses to start without the file, naming it and how to make one', async () => {
    const err = await startWithManifest(undefined)
    expect(err).toMatchObject({ code: 'CDG_CONFIG' })
    expect((err as Error).message).toMatch(/community\.json: cannot be read \(ENOENT\); write it with `cdgossip community export/)
  })

  it('refuses to start with a chain that does not verify, saying why', async () => {
    const err = await startWithManifest(JSON.stringify({ chain: [{ payload: 'e30=', signatures: [] }] }))
    expect(err).toMatchObject({ code: 'CDG_CONFIG' })
    expect((err as Error).message).toContain('community.json: ')
    expect((err as Error).message).not.toContain('cannot be read')
  })
})
