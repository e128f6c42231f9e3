import { mkdir, readdir, rm } from 'node:fs/promises'
import path from 'node:path'
import { fileURLToPath } from 'node:url'
import type { BenchContext, PartResult } from './context.js'
import { dirFor } from './context.js'
import { profileMarkdown, summarizeProfile, type ProfileSummary } from './cpu-profile.js'
import { prepareCatchupPair } from './catchup-bench.js'
import { withWarmFederation } from './federation-bench.js'
import { closedLoop } from './http-load.js'
import { NodeProcess } from './node-process.js'
import { Payloads, runPrefix } from './payloads.js'
import { measureBatch, measureSingle } from './publish-bench.js'
import { waitUntil } from './stats.js'
import { CdgossipTarget } from './publish-targets.js'

/**
 * CPU profiles of the hot paths, with `node --cpu-prof` on the node processes:
 * - publish: one node taking single-event publishes at saturation (validate → sign → store → gossip);
 * - federation: A, B, C at saturation; A shows publish + gossip send, B the receive path
 *   (verify → validate → store → deliver over SSE);
 * - sync: a restarted node catching up (the receive path fed by /cdgossip/sync/1.0.0).
 * Each profile covers the whole process life (start-up included); the summary aggregates self
 * time per function (mapped to the TypeScript source) and per area.
 */

const REPO_ROOT = fileURLToPath(new URL('../../../', import.meta.url))
/** events the profiled node catches up */
const SYNC_EVENTS = 10_000
const TOP = 15

/**
 * The main thread's profile of the last process that wrote into `dir`. Node names them
 * CPU.<date>.<time>.<pid>.<thread>.<seq>.cpuprofile; thread 0 is the main thread, the others are
 * the signature-verifying workers (their profiles stay in the folder).
 */
async function profileIn (dir: string): Promise<string> {
  const files = (await readdir(dir)).filter(f => /\.\d+\.0\.\d+\.cpuprofile$/.test(f))
  if (files.length === 0) throw new Error(`no main-thread .cpuprofile written in ${dir} (did the node exit cleanly?)`)
  return path.join(dir, files.sort().at(-1) as string)
}

const cpuProf = (dir: string): string[] => ['--cpu-prof', `--cpu-prof-dir=${dir}`]

export async function runProfile (ctx: BenchContext): Promise<PartResult> {
  const started = performance.now()
  const { options, log } = ctx
  const base = path.join(ctx.resultsDir, 'profiles')
  await rm(base, { recursive: true, force: true })
  const maxMs = options.measureSeconds * 1000
  const summaries: Record<string, ProfileSummary> = {}

  // 1. publish
  {
    const dir = path.join(base, 'publish')
    await mkdir(dir, { recursive: true })
    log('profile: single-node publish at saturation')
    const node = await NodeProcess.create('P', dirFor(ctx, 'profile', 'publish'))
    await node.configure({})
    try {
      await node.start(cpuProf(dir))
      const target = new CdgossipTarget(node.api())
      const payloads = new Payloads({ seed: 51, idPrefix: runPrefix('prof') })
      const r = await measureSingle(target, payloads, { inFlight: options.inFlight, maxMs })
      log(`  ${r.eventsPerSec} events/s under the profiler`)
    } finally {
      await node.stop()
    }
    summaries.publish = await summarizeProfile(await profileIn(dir), REPO_ROOT, 40)
  }

  // 2. federation
  {
    const dirs = { A: path.join(base, 'federation-a'), B: path.join(base, 'federation-b'), C: path.join(base, 'federation-c') }
    for (const d of Object.values(dirs)) await mkdir(d, { recursive: true })
    log('profile: three nodes at saturation')
    await withWarmFederation(ctx, 'profile-federation', { seed: 52, label: 'prof', nodeArgs: name => cpuProf(dirs[name as keyof typeof dirs]) }, async ({ target, payloads, tracker }) => {
      const r = await closedLoop({
        total: 1_000_000,
        inFlight: options.inFlight,
        maxMs,
        send: async () => {
          const sentAt = performance.now()
          const key = await target.publish(payloads.next())
          tracker.accepted(key, sentAt, performance.now())
        }
      })
      await tracker.drain(30_000)
      log(`  ${r.completed} published; delivered at B and C ${tracker.summary(1).deliveredPerSec} events/s under the profiler`)
    })
    summaries['federation A (publisher)'] = await summarizeProfile(await profileIn(dirs.A), REPO_ROOT, 40)
    summaries['federation B (subscriber)'] = await summarizeProfile(await profileIn(dirs.B), REPO_ROOT, 40)
  }

  // 3. sync catch-up
  {
    const dir = path.join(base, 'sync')
    await mkdir(dir, { recursive: true })
    log(`profile: a restarted node catching up ${SYNC_EVENTS} events`)
    const a = await NodeProcess.create('A', dirFor(ctx, 'profile-sync', 'a'))
    const b = await NodeProcess.create('B', dirFor(ctx, 'profile-sync', 'b'))
    try {
      const { target, payloads, held0 } = await prepareCatchupPair(a, b, { seed: 53, label: 'prof' })
      await measureBatch(target, payloads, { inFlight: 4, batchSize: 250, maxMs: 120_000, maxEvents: SYNC_EVENTS })
      await b.start(cpuProf(dir))
      const t0 = performance.now()
      await waitUntil(async () => await b.storedCount() >= held0 + SYNC_EVENTS, { timeoutMs: 120_000, intervalMs: 100, message: 'B caught up' })
      log(`  caught up in ${Math.round(performance.now() - t0)} ms under the profiler`)
    } finally {
      await b.stop()
      await a.stop()
    }
    summaries['sync catch-up (restarted B)'] = await summarizeProfile(await profileIn(dir), REPO_ROOT, 40)
  }

  const sections = Object.entries(summaries).map(([name, s]) => profileMarkdown(`${name}`, s, TOP))
  const markdown = [
    '## CPU profile summary',
    '',
    `\`node --cpu-prof\` on the node processes (${options.measureSeconds} s at saturation each, ${SYNC_EVENTS.toLocaleString('en-US')} events for the catch-up); self time per function of the main thread, mapped to the TypeScript source, as a share of its busy (non-idle) time over the process's whole life including start-up. Receiving nodes verify Ed25519 signatures in a worker thread, whose profile (thread 1) is not summarised here. Native LevelDB calls show as \`_get\`/\`_getMany\`/\`_has\`/\`_batch\`/\`_nextv\` in classic-level: on two busy cores their self time includes the main thread being descheduled when a libuv worker wakes for the call. Raw profiles: \`bench-results/profiles/\` (open in Chrome DevTools or speedscope); \`node dist/scripts/bench/cpu-profile.js <file>\` prints a longer summary.`,
    '',
    ...sections.flatMap(s => [s, ''])
  ].join('\n')
  return {
    name: 'profile',
    figures: [],
    raw: { summaries },
    notes: [],
    markdown,
    durationMs: performance.now() - started
  }
}
