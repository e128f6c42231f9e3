/**
 * `npm run demo:tools` (scripts/demo-tools.ts) run in-process: a signed GitHub-style webhook at
 * one community reaches a stand-in Jenkins through another community's subscription.
 */
import fs from 'node:fs/promises'
import os from 'node:os'
import path from 'node:path'
import { describe, expect, it, onTestFinished } from 'vitest'
import { runToolsDemo } from '../../scripts/demo-tools.js'

describe('npm run demo:tools', () => {
  it('the webhook becomes an event at acme that triggers the stand-in Jenkins from qa; the demo removes its data', async () => {
    const parent = await fs.mkdtemp(path.join(os.tmpdir(), 'cdgossip-demo-tools-test-'))
    onTestFinished(async () => { await fs.rm(parent, { recursive: true, force: true }) })
    const lines: string[] = []
    const result = await runToolsDemo({ out: line => { lines.push(line) }, tmpParent: parent })
    const text = lines.join('\n')
    expect(result.exitCode, text).toBe(0)
    expect(text).toContain('forged signature: 401')
    expect(text).toContain('signed: 202')
    expect(text).toContain('redelivers the same webhook: 200')
    expect(result.requests).toHaveLength(1)
    const [request] = result.requests
    expect(request?.method).toBe('POST')
    expect(request?.url).toMatch(/^\/job\/qa\/job\/smoke\/buildWithParameters/)
    if (result.sinkType === 'jenkins-build') {
      expect(request?.user).toBe('release-bot')
    } else {
      // the plain webhook sink delivers the signed event itself
      expect(result.sinkType).toBe('webhook')
      expect(request?.body).toContain('https://github.com/acme/widget')
    }
    expect(await fs.readdir(parent)).toEqual([])
  })
})
