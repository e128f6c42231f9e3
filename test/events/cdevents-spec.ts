/**
 * Access to the official CDEvents v0.5.1 files in ../shared/cdevents-spec (read at test time,
 * never copied into the project). Tests that need them skip when the folder is absent.
 */
import fs from 'node:fs'
import path from 'node:path'
import { fileURLToPath } from 'node:url'

export const REPO_ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..')
export const SPEC_DIR = path.resolve(REPO_ROOT, '../shared/cdevents-spec')
export const SPEC_AVAILABLE = fs.existsSync(path.join(SPEC_DIR, 'schemas')) && fs.existsSync(path.join(SPEC_DIR, 'conformance'))
export const SKIP_REASON = `skipped: the official CDEvents spec files are not at ${SPEC_DIR}`

export interface SpecExample {
  /** e.g. `conformance/pipelinerun_finished.json` */
  name: string
  event: Record<string, unknown>
}

function readJson (file: string): Record<string, unknown> {
  return JSON.parse(fs.readFileSync(file, 'utf8')) as Record<string, unknown>
}

/** Every conformance example: the 45 standard ones and the custom one. */
export function loadExamples (): SpecExample[] {
  const dir = path.join(SPEC_DIR, 'conformance')
  const examples = fs.readdirSync(dir).filter(f => f.endsWith('.json')).sort()
    .map(f => ({ name: `conformance/${f}`, event: readJson(path.join(dir, f)) }))
  examples.push({ name: 'custom/conformance.json', event: readJson(path.join(SPEC_DIR, 'custom', 'conformance.json')) })
  return examples
}

/** The official schemas: `links` (to register first), `events` by their context.type, and `custom`. */
export function loadOfficialSchemas (): { links: Array<Record<string, unknown>>, events: Map<string, Record<string, unknown>>, custom: Record<string, unknown>, files: Map<string, Record<string, unknown>> } {
  const linksDir = path.join(SPEC_DIR, 'schemas', 'links')
  const links = fs.readdirSync(linksDir).filter(f => f.endsWith('.json')).sort().map(f => readJson(path.join(linksDir, f)))
  const events = new Map<string, Record<string, unknown>>()
  const files = new Map<string, Record<string, unknown>>()
  const dir = path.join(SPEC_DIR, 'schemas')
  for (const f of fs.readdirSync(dir).filter(f => f.endsWith('.json')).sort()) {
    const schema = readJson(path.join(dir, f))
    const type = (((schema.properties as Record<string, any>).context.properties.type.enum) as string[])[0] as string
    events.set(type, schema)
    files.set(`schemas/${f}`, schema)
  }
  for (const f of fs.readdirSync(linksDir).filter(f => f.endsWith('.json')).sort()) files.set(`schemas/links/${f}`, readJson(path.join(linksDir, f)))
  const custom = readJson(path.join(SPEC_DIR, 'custom', 'schema.json'))
  files.set('custom/schema.json', custom)
  return { links, events, custom, files }
}
