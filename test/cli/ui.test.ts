import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { BUILT, SKIP_REASON, makeTempDir, removeDir, runCli, startNode } from './cli-helpers.js'
import type { CliNode } from './cli-helpers.js'

describe.skipIf(!BUILT)(`cdgossip ui ${BUILT ? '' : SKIP_REASON}`, () => {
  let dir: string
  let node: CliNode

  beforeAll(async () => {
    dir = await makeTempDir()
    node = await startNode(dir)
  })

  afterAll(async () => {
    await node?.stop()
    await removeDir(dir)
  })

  it('start names the web page without the token and points to `cdgossip ui`', () => {
    expect(node.stdout).toContain(`web page  ${node.apiUrl}/ui/`)
    expect(node.stdout).toContain('cdgossip ui')
    expect(node.stdout).not.toContain(node.token)
  })

  it('prints the login link of the data dir\'s node, which logs a browser in', async () => {
    const result = await runCli(['ui', ...node.args])
    expect(result.stderr).toBe('')
    expect(result.code).toBe(0)
    const link = result.stdout.trim()
    expect(link).toBe(`${node.apiUrl}/ui/?token=${encodeURIComponent(node.token)}`)
    const res = await fetch(link, { redirect: 'manual' })
    expect(res.status).toBe(303)
    expect(res.headers.get('location')).toBe('/ui/')
    expect(res.headers.get('set-cookie')).toMatch(/HttpOnly; SameSite=Strict/)
  })

  it('takes --api-url and --token like the other client commands', async () => {
    const result = await runCli(['ui', '--api-url', 'http://127.0.0.1:7443', '--token', 'a token/with+odd=chars'])
    expect(result.code).toBe(0)
    expect(result.stdout.trim()).toBe('http://127.0.0.1:7443/ui/?token=a%20token%2Fwith%2Bodd%3Dchars')
  })
})
