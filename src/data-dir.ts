import { randomBytes } from 'node:crypto'
import { chmod, mkdir, open, readFile, rename, rm, stat, writeFile } from 'node:fs/promises'
import { join } from 'node:path'
import { stringify as toYaml } from 'yaml'
import { CdgossipError } from './errors.js'

/**
 * The layout of a node's data directory, in one place:
 *   identity.key   Ed25519 libp2p private key (protobuf), mode 0600
 *   api-token      bearer token for the REST API, mode 0600
 *   config.yaml    the node's configuration (see README, Configuration)
 *   store/         LevelDB: events, indexes, subscriptions, delivery progress
 *   api-url        written by a running node: where its REST API listens (client commands read it)
 */
export const dataDirPaths = (dataDir: string): { identity: string, token: string, config: string, store: string, apiUrl: string } => ({
  identity: join(dataDir, 'identity.key'),
  token: join(dataDir, 'api-token'),
  config: join(dataDir, 'config.yaml'),
  store: join(dataDir, 'store'),
  apiUrl: join(dataDir, 'api-url')
})

/** 32 random bytes: guessing is out of reach; base64url keeps it header- and shell-safe. */
const TOKEN_BYTES = 32

async function exists (path: string): Promise<boolean> {
  try {
    await stat(path)
    return true
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return false
    throw err
  }
}

/** Write a secret so that it is never readable by others, not even for an instant. */
export async function writeSecretFile (path: string, content: string | Uint8Array): Promise<void> {
  const tmp = `${path}.${process.pid}.tmp`
  const handle = await open(tmp, 'wx', 0o600)
  try {
    await handle.writeFile(content)
    await handle.sync()
  } finally {
    await handle.close()
  }
  await rename(tmp, path)
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
  return (await readFile(path, 'utf8')).trim()
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
 * Create the data dir (0700), API token (0600) and a starter config.yaml when absent.
 * Existing files are never overwritten: init is safe to run twice. The identity key is
 * created by the signing module's loadOrCreateIdentity.
 */
export async function initDataDir (dataDir: string, options: InitOptions = {}): Promise<InitResult> {
  const paths = dataDirPaths(dataDir)
  const dirExisted = await exists(dataDir)
  await mkdir(dataDir, { recursive: true, mode: 0o700 })
  if (!dirExisted) await chmod(dataDir, 0o700)

  const tokenExisted = await exists(paths.token)
  if (!tokenExisted) await writeSecretFile(paths.token, randomBytes(TOKEN_BYTES).toString('base64url') + '\n')

  const configExisted = await exists(paths.config)
  if (!configExisted) {
    const starter: Record<string, unknown> = {}
    if (options.network !== undefined) starter.network = options.network
    if (options.apiPort !== undefined) starter.api = { port: options.apiPort }
    if (options.p2pPort !== undefined) starter.p2p = { listen: [`/ip4/0.0.0.0/tcp/${options.p2pPort}`] }
    const header = '# cdgossip node configuration; every key is documented in the README (Configuration).\n'
    await writeFile(paths.config, header + (Object.keys(starter).length > 0 ? toYaml(starter) : '{}\n'), { mode: 0o600 })
  }
  return { dataDir, created: { dataDir: !dirExisted, token: !tokenExisted, config: !configExisted } }
}

/** Where the running node listens, so client commands find it whatever port flags it was started with. */
export async function writeApiUrl (dataDir: string, url: string): Promise<void> {
  await writeFile(dataDirPaths(dataDir).apiUrl, url + '\n', { mode: 0o600 })
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
