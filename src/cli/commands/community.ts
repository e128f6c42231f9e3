import { writeFile } from 'node:fs/promises'
import { generateKeyPair } from '@libp2p/crypto/keys'
import type { PrivateKey } from '@libp2p/interface'
import {
  addNode,
  createRootKeyFile,
  currentRootKey,
  encodeChainDocument,
  loadRootKeyFile,
  readChainFile,
  removeNode,
  revokeNode,
  rotateRoot,
  saveRootKeyFile,
  writeRootKeyFile,
  type CommunityManifest,
  type ManifestNode,
  type RootKeyFile,
  type VerifiedChain
} from '../../community/index.js'
import { UsageError, list, parse, shellWord, str } from '../args.js'
import { ApiError } from '../client.js'
import { EXIT } from '../command.js'
import type { CommandContext, CommandGroup, Out } from '../command.js'
import { client } from '../connect.js'
import { formatTable } from '../format.js'

/**
 * The community root key holder's commands: they work on a root key file (kept offline), never
 * on a node, except `publish`, which hands the signed chain to a running node.
 */
export const COMMUNITY_COMMANDS: CommandGroup = {
  community: cmdCommunity
}

const OPTIONS = {
  name: { type: 'string' },
  out: { type: 'string' },
  key: { type: 'string' },
  chain: { type: 'string' },
  'peer-id': { type: 'string' },
  source: { type: 'string', multiple: true },
  class: { type: 'string', multiple: true },
  reason: { type: 'string' },
  'new-key-out': { type: 'string' },
  json: { type: 'boolean' }
} as const

const USAGE = `usage: cdgossip community <action>
  init --name N --out FILE                                   new root key file (0600) and the genesis manifest
  add-node --key FILE --peer-id ID [--source P]... [--class C]...   list a node key (again: replace its scopes)
  remove-node --key FILE --peer-id ID                        take a node key off the list
  revoke --key FILE --peer-id ID [--reason TEXT]             revoke a node key: its new records are refused
  rotate-root --key FILE --new-key-out FILE2                 hand the community to a new root key
  show (--key FILE | --chain FILE) [--json]                  the current manifest
  export --key FILE [--out FILE]                             the signed chain for nodes (community.manifest)
  publish (--key FILE | --chain FILE) [--api-url URL]...     give the chain to a running node`

type Values = Record<string, unknown>

async function cmdCommunity (args: string[], out: Out, ctx: CommandContext): Promise<number> {
  const { values, positionals } = parse(args, OPTIONS)
  const action = positionals[0]
  switch (action) {
    case 'init': return await init(values, out)
    case 'add-node': return await edit(values, out, (file, key) => addNode(file.chain, key, nodeEntry(values)), m => `node ${needPeerId(values)} listed${scopeText(m.nodes.find(n => n.peerId === needPeerId(values)))}`)
    case 'remove-node': return await edit(values, out, (file, key) => removeNode(file.chain, key, needPeerId(values)), () => `node ${needPeerId(values)} removed`)
    case 'revoke': return await edit(values, out, (file, key) => revokeNode(file.chain, key, needPeerId(values), str(values.reason)), () => `node key ${needPeerId(values)} revoked: nodes refuse the records it signs from now on`)
    case 'rotate-root': return await rotate(values, out)
    case 'show': return show(await chainOf(values), values.json === true, out)
    case 'export': return await exportChain(values, out, ctx)
    case 'publish': return await publish(values, out, ctx)
    case undefined: throw new UsageError(USAGE)
    default: throw new UsageError(`unknown community action ${action}\n${USAGE}`)
  }
}

function need (values: Values, flag: string): string {
  const value = str(values[flag])
  if (value === undefined) throw new UsageError(`--${flag} is required\n${USAGE}`)
  return value
}

const needPeerId = (values: Values): string => need(values, 'peer-id')

function nodeEntry (values: Values): ManifestNode {
  const sources = list(values.source)
  const classes = list(values.class)
  return { peerId: needPeerId(values), ...(sources === undefined ? {} : { sources }), ...(classes === undefined ? {} : { classes }) }
}

function scopeText (node: ManifestNode | undefined): string {
  if (node === undefined) return ''
  const parts = [node.sources === undefined ? '' : `sources ${node.sources.join(',')}`, node.classes === undefined ? '' : `classes ${node.classes.join(',')}`].filter(p => p !== '')
  return parts.length === 0 ? ' (within the trust entries\' scopes)' : ` (${parts.join('; ')})`
}

async function init (values: Values, out: Out): Promise<number> {
  const file = await createRootKeyFile(need(values, 'out'), need(values, 'name'))
  out(`created community ${file.chain.manifest.community}`)
  out(`root key (community id): ${file.rootKey}`)
  out(`root key file: ${file.path} (mode 0600): keep it offline; nodes only need the chain (cdgossip community export)`)
  out(`next: cdgossip community add-node --key ${shellWord(file.path)} --peer-id <a node's peer ID>`)
  return EXIT.OK
}

/** Load the key file, make and sign the next version, save it, say what changed. */
async function edit (values: Values, out: Out, change: (file: RootKeyFile, key: PrivateKey) => VerifiedChain, what: (m: CommunityManifest) => string): Promise<number> {
  const file = await loadRootKeyFile(need(values, 'key'))
  const saved = await saveRootKeyFile(file, change(file, currentRootKey(file)))
  out(`${saved.chain.manifest.community} version ${saved.chain.manifest.version}: ${what(saved.chain.manifest)}`)
  out(`copy it to the nodes: cdgossip community publish --key ${shellWord(file.path)} (or community export)`)
  return EXIT.OK
}

async function rotate (values: Values, out: Out): Promise<number> {
  const file = await loadRootKeyFile(need(values, 'key'))
  const newPath = need(values, 'new-key-out')
  const newKey = await generateKeyPair('Ed25519')
  const rotated = rotateRoot(file.chain, currentRootKey(file), newKey)
  // the new file first: it refuses to overwrite, and until it exists the old key stays current
  const next = await writeRootKeyFile(newPath, newKey, rotated)
  await saveRootKeyFile(file, rotated)
  out(`${rotated.manifest.community} version ${rotated.manifest.version}: root key ${file.rootKey} → ${next.rootKey} (signed by both)`)
  out(`new root key file: ${next.path} (mode 0600); ${file.path} is retired: archive it offline, it signs nothing more`)
  out(`publish the rotation: cdgossip community publish --key ${shellWord(next.path)}`)
  return EXIT.OK
}

/** The chain of `--key FILE` or of `--chain FILE` (verified from its genesis: trust is the node's business). */
async function chainOf (values: Values): Promise<VerifiedChain> {
  const keyPath = str(values.key)
  const chainPath = str(values.chain)
  if ((keyPath === undefined) === (chainPath === undefined)) throw new UsageError(`give one of --key FILE or --chain FILE\n${USAGE}`)
  return keyPath !== undefined ? (await loadRootKeyFile(keyPath)).chain : await readChainFile(chainPath as string)
}

function show (held: VerifiedChain, json: boolean, out: Out): number {
  const m = held.manifest
  if (json) {
    out(JSON.stringify({ ...m, rootKeys: held.rootKeys }))
    return EXIT.OK
  }
  out(`community ${m.community}`)
  out(`id        ${m.id} (the genesis root key)`)
  out(`version   ${m.version}, issued ${m.issuedAt}`)
  out(`root key  ${m.rootKey}${held.rootKeys.length > 1 ? ` (rotated ${held.rootKeys.length - 1} time${held.rootKeys.length > 2 ? 's' : ''}; retired: ${held.rootKeys.slice(0, -1).join(', ')})` : ''}`)
  out('')
  out(m.nodes.length === 0
    ? 'no nodes (add one: cdgossip community add-node)'
    : formatTable(['NODE', 'SOURCES', 'CLASSES'], m.nodes.map(n => [n.peerId, n.sources?.join(',') ?? '(entry\'s)', n.classes?.join(',') ?? '(entry\'s)']), { maxCell: 200 }))
  if (m.revoked.length > 0) {
    out('')
    out(formatTable(['REVOKED', 'IN VERSION', 'REASON'], m.revoked.map(r => [r.peerId, String(r.version), r.reason ?? '']), { maxCell: 200 }))
  }
  return EXIT.OK
}

async function exportChain (values: Values, out: Out, ctx: CommandContext): Promise<number> {
  const held = (await loadRootKeyFile(need(values, 'key'))).chain
  const target = str(values.out)
  if (target === undefined || target === '-') {
    out(encodeChainDocument(held).trimEnd())
    return EXIT.OK
  }
  await writeFile(target, encodeChainDocument(held))
  ctx.err(`wrote ${held.manifest.community} version ${held.manifest.version} (${held.chain.length} signed manifest${held.chain.length === 1 ? '' : 's'}) to ${target}; point community.manifest at it on each node`)
  return EXIT.OK
}

/**
 * POST the chain to a node. Publishing is idempotent (a node keeps the newest version; the same
 * one again is "stale", nothing changes), so the client may try the next --api-url after a timeout.
 */
async function publish (values: Values, out: Out, ctx: CommandContext): Promise<number> {
  const held = await chainOf(values)
  const api = await client(values)
  const what = `${held.manifest.community} version ${held.manifest.version}`
  try {
    await api.request('POST', '/v1/community/manifests', { json: { chain: held.chain }, idempotent: true })
  } catch (err) {
    if (!(err instanceof ApiError) || err.code !== 'CDG_STALE_MANIFEST') throw err
    ctx.err(`the node at ${api.baseUrl} already holds ${what} or a newer one: ${err.message}`)
    return EXIT.OK
  }
  out(`published ${what} to ${api.baseUrl}`)
  return EXIT.OK
}
