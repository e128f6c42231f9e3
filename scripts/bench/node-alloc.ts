import { mkdtemp, readdir, rm } from 'node:fs/promises'
import os from 'node:os'
import path from 'node:path'
import { fileURLToPath } from 'node:url'
import { formatTopSites, readAllocationProfile, summarizeAllocations } from './heap-profile.js'
import type { NodeProcess } from './node-process.js'
import { waitUntil } from './stats.js'

/**
 * V8 heap allocation of node processes over a piece of bench work, with alloc-sampler.js preloaded
 * into them: node-cpu.js (federation) and catchup-alloc.js (a restarted node's catch-up) share it.
 */

const REPO_ROOT = fileURLToPath(new URL('../../../', import.meta.url))

/** What a node process needs on its command line to carry the sampler. */
export const ALLOC_SAMPLER_ARGS: readonly string[] = ['--import', new URL('./alloc-sampler.js', import.meta.url).href]

/**
 * A temp directory the sampler writes its profiles into, set as CDGOSSIP_ALLOC_DIR for the node
 * processes started after this (they inherit the environment); `remove` takes both away again.
 */
export async function allocationDir (): Promise<{ dir: string, remove: () => Promise<void> }> {
  const dir = await mkdtemp(path.join(os.tmpdir(), 'cdgossip-node-alloc-'))
  process.env.CDGOSSIP_ALLOC_DIR = dir
  return {
    dir,
    remove: async () => {
      delete process.env.CDGOSSIP_ALLOC_DIR
      await rm(dir, { recursive: true, force: true })
    }
  }
}

/** Toggles the alloc sampler in each node (start, then stop and write). */
export function toggleSampling (nodes: readonly NodeProcess[]): void {
  for (const n of nodes) if (n.pid !== undefined) process.kill(n.pid, 'SIGUSR2')
}

/** Bytes per event at each node, and the heaviest sites at node `at`, from the profiles the nodes wrote into `dir`. */
export async function allocationReport (dir: string, nodes: readonly NodeProcess[], events: number, top: number, at: string): Promise<{ perEvent: Record<string, number>, topSites: string[] }> {
  const files = (pid: number | undefined): string => `alloc.${pid ?? 0}.heapprofile`
  await waitUntil(async () => {
    const present = new Set(await readdir(dir))
    return nodes.every(n => present.has(files(n.pid)))
  }, { timeoutMs: 60_000, intervalMs: 200, message: 'every node wrote its allocation profile' })
  const perEvent: Record<string, number> = {}
  let topSites: string[] = []
  for (const n of nodes) {
    const summary = await summarizeAllocations(await readAllocationProfile(path.join(dir, files(n.pid))), REPO_ROOT)
    perEvent[n.name] = Math.round(summary.totalBytes / events)
    if (n.name === at) topSites = formatTopSites(summary, events, top)
  }
  return { perEvent, topSites }
}
