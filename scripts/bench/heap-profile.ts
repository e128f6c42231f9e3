import { readFile } from 'node:fs/promises'
import type { HeapProfiler } from 'node:inspector'
import { locationOf } from './cpu-profile.js'

/**
 * Bytes allocated per function in a V8 sampling heap profile (the inspector's
 * HeapProfiler.stopSampling, or a .heapprofile file), functions mapped to their TypeScript source.
 * With the profiler counting collected objects too (receive-alloc, alloc-sampler), this is what
 * each function allocated, whether it lived or not.
 */

export interface AllocationSite {
  /** function name and location, e.g. `decodeSignedRecord src/signing/record.ts:194` */
  site: string
  bytes: number
}

export interface AllocationSummary {
  totalBytes: number
  /** heaviest first */
  sites: AllocationSite[]
}

export async function summarizeAllocations (profile: HeapProfiler.SamplingHeapProfile, repoRoot: string): Promise<AllocationSummary> {
  const bySite = new Map<string, number>()
  let totalBytes = 0
  const pending: HeapProfiler.SamplingHeapProfileNode[] = [profile.head]
  for (let node = pending.pop(); node !== undefined; node = pending.pop()) {
    pending.push(...node.children)
    if (node.selfSize === 0) continue
    totalBytes += node.selfSize
    const location = await locationOf(node.callFrame, repoRoot)
    const site = `${node.callFrame.functionName === '' ? '(anonymous)' : node.callFrame.functionName} ${location === '' ? '(native/V8)' : location}`
    bySite.set(site, (bySite.get(site) ?? 0) + node.selfSize)
  }
  const sites = [...bySite].map(([site, bytes]) => ({ site, bytes })).sort((a, b) => b.bytes - a.bytes)
  return { totalBytes, sites }
}

export async function readAllocationProfile (file: string): Promise<HeapProfiler.SamplingHeapProfile> {
  return JSON.parse(await readFile(file, 'utf8')) as HeapProfiler.SamplingHeapProfile
}

/** The `top` heaviest sites as lines of bytes per unit (per record, per delivered event). */
export function formatTopSites (summary: AllocationSummary, units: number, top: number): string[] {
  return summary.sites.slice(0, top).map(({ site, bytes }) => `${String(Math.round(bytes / units)).padStart(7)} B  ${site}`)
}
