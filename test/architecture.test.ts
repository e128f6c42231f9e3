import { readdir, readFile } from 'node:fs/promises'
import { join, relative, resolve, dirname } from 'node:path'
import { fileURLToPath } from 'node:url'
import { describe, expect, it } from 'vitest'

/**
 * Keeps the data flow one-way, as README.md's "Dependencies" table and STYLE.md rule 4 say: each
 * part of src/ may import only the parts listed for it. A part is a folder (`p2p` for everything
 * under src/p2p/) or a top-level file (`config` for src/config.ts); the command line is one part,
 * `cli`, whether its files sit in src/cli/ or at the top. Every static, re-exporting, side-effect
 * and dynamic (`import('…')`) import counts, type-only ones too.
 */
const SRC = resolve(dirname(fileURLToPath(import.meta.url)), '../src')

/** The shared vocabulary: records, queries, the node's contracts and the error base. Every part may import them. */
const SHARED = ['events', 'contracts', 'errors']

const ALLOWED: Record<string, string[]> = {
  // pure, no I/O
  events: ['errors'],
  // hooks: the sources the facade lists are hooks/' types
  contracts: ['events', 'errors', 'trust', 'subscriptions', 'hooks'],
  signing: ['events', 'errors'],
  trust: ['events', 'errors'],
  // community manifests: signed like records (signing/), scoped like trust entries (trust/)
  community: ['events', 'errors', 'signing', 'trust'],
  // webhook kinds turn a tool's payload into CDEvents, nothing more
  hooks: ['events', 'errors'],
  // the store knows only the records it keeps
  store: SHARED,
  subscriptions: [...SHARED, 'trust'],
  // p2p never imports store/ or api/: it receives functions (P2PComponents, SyncComponents)
  p2p: [...SHARED, 'signing'],
  // delivery reads through its narrow reader (DeliverySource), not store/
  delivery: [...SHARED, 'subscriptions'],
  pipeline: [...SHARED, 'signing', 'trust', 'subscriptions', 'store', 'p2p'],
  // api talks only to the node facade (contracts/); trust, subscriptions and hooks give it their input rules
  api: [...SHARED, 'trust', 'subscriptions', 'hooks'],
  metrics: [...SHARED, 'p2p', 'delivery'],
  // traceability: graphs over what the store's trace indexes answer, through a narrow reader (TraceStore)
  trace: SHARED,
  // the web page (src/ui/app/, bundled for the browser): the API answers' shapes, types only (a
  // test below checks), so nothing of the node is bundled; it talks to the node over HTTP alone
  ui: [...SHARED, 'trust', 'subscriptions'],
  // the composition root, the only part that imports every folder
  node: ['events', 'contracts', 'errors', 'signing', 'trust', 'community', 'store', 'subscriptions', 'p2p', 'delivery', 'pipeline', 'api', 'metrics', 'hooks', 'config', 'data-dir', 'logger', 'lifecycle', 'trace'],
  lifecycle: [],
  // the command line: the node (to run it) and the config, and the pure parts
  cli: [...SHARED, 'signing', 'community', 'node', 'config', 'data-dir', 'logger'],
  config: ['errors', 'config-problems', 'config-schema', 'config-flags'],
  'config-schema': [],
  'config-flags': ['config-problems', 'config-schema'],
  'config-problems': [...SHARED, 'trust', 'subscriptions', 'hooks'],
  'config-starter': ['config'],
  'data-dir': ['errors', 'config', 'config-starter'],
  logger: [],
  polyfill: []
}

/** Top-level files that make up the command line until they live in src/cli/. */
const CLI_FILES = /^(cli(-[a-z-]+)?|client|run)\.(ts|js)$/

function partOf (path: string): string {
  const slash = path.indexOf('/')
  if (slash >= 0) return path.slice(0, slash)
  if (CLI_FILES.test(path)) return 'cli'
  return path.replace(/\.(ts|js)$/, '')
}

async function sourceFiles (dir: string): Promise<string[]> {
  const out: string[] = []
  for (const entry of await readdir(dir, { withFileTypes: true })) {
    const path = join(dir, entry.name)
    if (entry.isDirectory()) out.push(...await sourceFiles(path))
    else if (entry.name.endsWith('.ts')) out.push(path)
  }
  return out
}

interface Import { from: string, target: string }

/** `import … from`, `export … from`, `import './x.js'` and `import('./x.js')`, relative ones. */
const IMPORT_RE = /(?:^\s*(?:import|export)\s+(?:type\s+)?(?:[^'";]*?\sfrom\s+)?|\bimport\(\s*)['"](\.{1,2}\/[^'"]+)['"]/gm

/** The web page's static imports; group 1 is set for `import type`. */
const VALUE_OR_TYPE_IMPORT_RE = /^\s*(?:import|export)\s+(type\s+)?(?:[^'";]*?\sfrom\s+)?['"](\.{1,2}\/[^'"]+)['"]/gm

async function imports (): Promise<Import[]> {
  const out: Import[] = []
  for (const file of await sourceFiles(SRC)) {
    const text = await readFile(file, 'utf8')
    for (const m of text.matchAll(IMPORT_RE)) {
      out.push({ from: relative(SRC, file), target: relative(SRC, resolve(dirname(file), m[1] as string)) })
    }
  }
  return out
}

describe('architecture', () => {
  it('sees every kind of import', async () => {
    const all = await imports()
    // dynamic: the CLI loads the node runner only for `start`
    expect(all.some(i => partOf(i.from) === 'cli' && partOf(i.target) === 'node')).toBe(true)
    expect(all.some(i => i.from.startsWith('store/') && i.target.startsWith('events/'))).toBe(true)
  })

  it('each part imports only the parts the dependency table allows', async () => {
    const problems: string[] = []
    const unknown = new Set<string>()
    for (const imp of await imports()) {
      const from = partOf(imp.from)
      const to = partOf(imp.target)
      if (from === to) continue
      const allowed = ALLOWED[from]
      if (allowed === undefined) unknown.add(from)
      else if (!allowed.includes(to)) problems.push(`${imp.from} imports ${imp.target}`)
    }
    expect([...unknown]).toEqual([])
    expect(problems).toEqual([])
  })

  it('nothing but the command line imports the composition root', async () => {
    const importers = (await imports()).filter(i => partOf(i.target) === 'node' && partOf(i.from) !== 'node').map(i => i.from)
    expect(importers.filter(f => partOf(f) !== 'cli')).toEqual([])
  })

  it('the web page imports only types from the rest of src/', async () => {
    const problems: string[] = []
    for (const file of await sourceFiles(join(SRC, 'ui'))) {
      const text = await readFile(file, 'utf8')
      for (const m of text.matchAll(VALUE_OR_TYPE_IMPORT_RE)) {
        const target = relative(SRC, resolve(dirname(file), m[2] as string))
        if (partOf(target) !== 'ui' && m[1] === undefined) problems.push(`${relative(SRC, file)} imports ${target} (not type-only)`)
      }
    }
    expect(problems).toEqual([])
  })

  it('only node.ts reaches into every folder', async () => {
    const reach = new Map<string, Set<string>>()
    for (const imp of await imports()) {
      const set = reach.get(imp.from) ?? new Set<string>()
      set.add(partOf(imp.target))
      reach.set(imp.from, set)
    }
    const everywhere = [...reach].filter(([, parts]) => ['events', 'signing', 'store', 'p2p', 'delivery', 'api'].every(f => parts.has(f))).map(([file]) => file)
    expect(everywhere).toEqual(['node.ts'])
  })
})
