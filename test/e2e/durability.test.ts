/**
 * The real CLI in a child process, SIGKILLed in the middle of a publish burst: what was
 * acknowledged survives, what was refused never appears, and sequences stay contiguous.
 * Runs the compiled node (`npm test` builds dist/ first).
 */
import fs from 'node:fs'
import path from 'node:path'
import { describe, expect, it } from 'vitest'
import type { PublishReceipt } from '../../src/api/types.js'
import type { CDEvent } from '../../src/events/types.js'
import { artifactPublished, pipelineRunFinished, tempDataDir } from '../helpers/nodes.js'
import { BUILT, allViews, startChild } from '../helpers/child-node.js'


/** Publishers working at once, each with one request in flight. */
const WORKERS = 6
/** Acknowledged events before the kill: well into the burst. */
const KILL_AFTER_ACCEPTED = 40
/** Every INVALID_EVERY-th event is invalid (400): a refused event must never show up. */
const INVALID_EVERY = 7

type Outcome =
  | { kind: 'accepted', receipt: PublishReceipt }
  | { kind: 'refused', status: number }
  | { kind: 'unknown' }

function burstEvent (n: number): CDEvent {
  const source = 'https://ci.durable.example/jenkins'
  const event = n % 2 === 0 ? artifactPublished({ source, id: `burst-${n}` }) : pipelineRunFinished({ source, id: `burst-${n}` })
  // content the schema refuses (sbom must be an object; pipelinerun has no sbom at all)
  if (n % INVALID_EVERY === 0) return { ...event, subject: { ...event.subject, content: { sbom: 'not an object' } } }
  return event
}

const TITLE = 'durability of a node killed mid-burst'
describe.skipIf(!BUILT)(BUILT ? TITLE : `${TITLE} (skipped: dist/ is not built; npm test builds it first)`, () => {
  it('keeps every acknowledged event, never a refused one, with contiguous sequences', async () => {
    const dataDir = await tempDataDir('cdgossip-durable-')
    const first = await startChild(dataDir)
    const { body: info } = await first.api.request<{ peerId: string }>('GET', '/v1/node')

    const outcomes = new Map<number, Outcome>()
    let next = 0
    let accepted = 0
    let killed = false
    const worker = async (): Promise<void> => {
      while (!killed) {
        const n = next++
        try {
          const { body } = await first.api.request<PublishReceipt>('POST', '/v1/events', { json: burstEvent(n) })
          outcomes.set(n, { kind: 'accepted', receipt: body })
          accepted++
          if (accepted === KILL_AFTER_ACCEPTED) {
            killed = true
            // the other workers' requests are in flight right now
            first.child.kill('SIGKILL')
          }
        } catch (err) {
          const status = (err as { statusCode?: number }).statusCode
          outcomes.set(n, status === undefined ? { kind: 'unknown' } : { kind: 'refused', status })
        }
      }
    }
    await Promise.all(Array.from({ length: WORKERS }, worker))
    await first.exited

    const refused = [...outcomes].filter(([, o]) => o.kind === 'refused')
    const acks = [...outcomes].flatMap(([n, o]) => o.kind === 'accepted' ? [[n, o.receipt] as const] : [])
    // answers already on their way when the signal landed count too
    expect(acks.length).toBeGreaterThanOrEqual(KILL_AFTER_ACCEPTED)
    expect(refused.length).toBeGreaterThan(0)
    expect(refused.every(([n, o]) => n % INVALID_EVERY === 0 && o.kind === 'refused' && o.status === 400)).toBe(true)

    const second = await startChild(dataDir)
    const { body: again } = await second.api.request<{ peerId: string }>('GET', '/v1/node')
    expect(again.peerId).toBe(info.peerId)
    const views = await allViews(second.api)

    // every 202 survived the kill, byte for byte the same record
    const byDigest = new Map(views.map((v) => [v.digest, v]))
    for (const [n, receipt] of acks) {
      expect(byDigest.get(receipt.digest)?.cdevent.context.id, `acknowledged event ${n}`).toBe(`burst-${n}`)
    }
    // nothing refused, nothing never sent; an event whose request died unanswered may be either way
    const ids = views.map((v) => v.cdevent.context.id)
    expect(new Set(ids).size).toBe(ids.length)
    for (const id of ids) {
      const n = Number(id.slice('burst-'.length))
      expect(outcomes.get(n)?.kind, `stored event ${id}`).toMatch(/^(accepted|unknown)$/)
    }
    // per (origin, class): exactly 1..k, no hole, no repeat
    const sequences = new Map<string, number[]>()
    for (const v of views) {
      expect(v.origin).toBe(info.peerId)
      sequences.set(v.class, [...(sequences.get(v.class) ?? []), v.sequence])
    }
    expect([...sequences.keys()].sort()).toEqual(['artifact.published', 'pipelinerun.finished'])
    for (const [eventClass, list] of sequences) {
      expect(list.sort((a, b) => a - b), eventClass).toEqual(list.map((_, i) => i + 1))
    }

    // the node keeps numbering where it left off
    const { status, body: after } = await second.api.request<PublishReceipt>('POST', '/v1/events', { json: artifactPublished({ source: 'https://ci.durable.example/jenkins' }) })
    expect(status).toBe(202)
    expect(after.sequence).toBe((sequences.get('artifact.published')?.length ?? 0) + 1)

    second.child.kill('SIGTERM')
    expect(await second.exited).toBe(0)
    expect(fs.existsSync(path.join(dataDir, 'api-url'))).toBe(false)
    expect(second.stderr()).not.toMatch(/"level":(50|60)/)
  })
})
