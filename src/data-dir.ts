import { randomBytes } from 'node:crypto'
import { chmod, link, mkdir, open, readFile, rename, rm, stat, unlink, writeFile } from 'node:fs/promises'
import { join } from 'node:path'
import { CdgossipError } from './errors.js'
import { CONFIG_FILE_NAMES } from './config.js'
import { starterConfig } from './config-starter.js'

/**
 * The layout of a node's data directory, in one place:
 *   identity.key   Ed25519 libp2p private key (protobuf), mode 0600
 *   api-token      bearer token for the REST API, mode 0600
 *   config.yaml    the node's configuration (see README, Configuration)
 *   store/         LevelDB: events, indexes, subscriptions, delivery progress
 *   trace-fetched/ LevelDB: records fetched from peers for a trace (`?resolve=true`), kept apart from store/
 *   api-url        written by a running node: where its REST API listens (client commands read it)
 *   peers.json     peers this node was connected to, so a restart reconnects without bootstrap entries
 */
export const dataDirPaths = (dataDir: string): { identity: string, token: string, config: string, store: string, traceFetched: string, apiUrl: string, peers: string } => ({
  identity: join(dataDir, 'identity.key'),
  token: join(dataDir, 'api-token'),
  config: join(dataDir, 'config.yaml'),
  store: join(dataDir, 'store'),
  traceFetched: join(dataDir, 'trace-fetched'),
  apiUrl: join(dataDir, 'api-url'),
  peers: join(dataDir, 'peers.json')
})

/** 32 random bytes: guessing is out of reach; base64url keeps it header- and shell-safe. */
const TOKEN_BYTES = 32
/** A hand-written token shorter than this is guessable: 16 base64url characters are 96 bits. */
export const MIN_TOKEN_LENGTH = 16

async function exists (path: string): Promise<boolean> {
  try {
    await stat(path)
    return true
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return false
    throw err
  }
}

async function writeTemp (path: string, content: string | Uint8Array, mode: number): Promise<string> {
  // unique per call: two writers in one process must not share a temp file
  const tmp = `${path}.${process.pid}.${randomBytes(4).toString('hex')}.tmp`
  const handle = await open(tmp, 'wx', mode)
  try {
    await handle.writeFile(content)
    await handle.sync()
  } finally {
    await handle.close()
  }
  return tmp
}

/** Write a secret so that it is never readable by others, not even for an instant. */
export async function writeSecretFile (path: string, content: string | Uint8Array): Promise<void> {
  await rename(await writeTemp(path, content, 0o600), path)
}

/**
 * Like writeSecretFile, but never replaces an existing file, even one another process creates at
 * the same moment (`link` fails where `rename` would overwrite). Returns false when one existed.
 */
export async function createSecretFile (path: string, content: string | Uint8Array): Promise<boolean> {
  const tmp = await writeTemp(path, content, 0o600)
  try {
    await link(tmp, path)
    return true
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'EEXIST') return false
    throw err
  } finally {
    await unlink(tmp)
  }
}

/** Refuse a secret file that group or others can read: a leaked token or key is a forged community. */
export async function assertPrivateFile (path: string, what: string): Promise<void> {
  const info = await stat(path)
  if ((info.mode & 0o077) !== 0) {
    throw new CdgossipError('CDG_CONFIG', `${what} ${path} is readable by other users (mode ${(info.mode & 0o777).toString(8)}); run: chmod 600 ${path}`)
  }
}

export async function readApiToken (dataDir: string): Promise<string> {
  const path = dataDirPaths(dataDir).token
  await assertPrivateFile(path, 'API token file')
  const token = (await readFile(path, 'utf8')).trim()
  if (token.length < MIN_TOKEN_LENGTH) {
    throw new CdgossipError('CDG_CONFIG', `API token file ${path} holds ${token.length === 0 ? 'no token' : 'a token shorter than ' + String(MIN_TOKEN_LENGTH) + ' characters'}; delete it and run: cdgossip init`)
  }
  return token
}

export interface InitOptions {
  network?: string
  apiPort?: number
  p2pPort?: number
}

export interface InitResult {
  dataDir: string
  created: { dataDir: boolean, token: boolean, config: boolean }
}

/**
 * Create the data dir (0700), API token (0600) and a commented starter config.yaml when absent.
 * Existing files are never overwritten: init is safe to run twice. The identity key is
 * created by the signing module's loadOrCreateIdentity.
 */
export async function initDataDir (dataDir: string, options: InitOptions = {}): Promise<InitResult> {
  const paths = dataDirPaths(dataDir)
  const dirExisted = await exists(dataDir)
  await mkdir(dataDir, { recursive: true, mode: 0o700 })
  if (!dirExisted) await chmod(dataDir, 0o700)

  const tokenCreated = await createSecretFile(paths.token, randomBytes(TOKEN_BYTES).toString('base64url') + '\n')

  // a config.json (or .yml) is the config: a starter config.yaml beside it would shadow it
  let configExisted = false
  for (const name of CONFIG_FILE_NAMES) configExisted ||= await exists(join(dataDir, name))
  if (!configExisted) {
    try {
      // every section commented out with its default, so YAML blocks can be uncommented or appended
      await writeFile(paths.config, starterConfig(options), { mode: 0o600, flag: 'wx' })
    } catch (err) {
      // another init wrote it meanwhile: theirs stands
      if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw err
      configExisted = true
    }
  }
  return { dataDir, created: { dataDir: !dirExisted, token: tokenCreated, config: !configExisted } }
}

/**
 * Where the running node listens, so client commands find it whatever port flags it was started
 * with. Written whole (temp file, then rename): a client never reads half a URL.
 */
export async function writeApiUrl (dataDir: string, url: string): Promise<void> {
  const path = dataDirPaths(dataDir).apiUrl
  await rename(await writeTemp(path, url + '\n', 0o600), path)
}

export async function readApiUrl (dataDir: string): Promise<string | undefined> {
  try {
    return (await readFile(dataDirPaths(dataDir).apiUrl, 'utf8')).trim()
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return undefined
    throw err
  }
}

export async function removeApiUrl (dataDir: string): Promise<void> {
  await rm(dataDirPaths(dataDir).apiUrl, { force: true })
}

/**
 * A peers file larger than this is not one this node wrote (256 peers × 8 addresses is ~600 KiB at
 * most): it is refused unread rather than parsed.
 */
export const MAX_PEERS_FILE_BYTES = 1024 * 1024

/**
 * The parsed peers file, or undefined when there is none. Throws (with the path in the message)
 * when it is unreadable, too large or not JSON; the caller warns and starts without it.
 */
export async function readPeersFile (dataDir: string): Promise<unknown> {
  const path = dataDirPaths(dataDir).peers
  let text: string
  try {
    const info = await stat(path)
    if (info.size > MAX_PEERS_FILE_BYTES) throw new Error(`peers file ${path} is ${info.size} bytes, over ${MAX_PEERS_FILE_BYTES}`)
    text = await readFile(path, 'utf8')
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return undefined
    throw err
  }
  try {
    return JSON.parse(text)
  } catch (err) {
    throw new Error(`peers file ${path} is not valid JSON: ${(err as Error).message}`)
  }
}

/** Replace the peers file whole (temp file, then rename): a crash mid-write leaves the old one. */
export async function writePeersFile (dataDir: string, content: unknown): Promise<void> {
  const path = dataDirPaths(dataDir).peers
  await rename(await writeTemp(path, JSON.stringify(content, null, 1) + '\n', 0o600), path)
}
