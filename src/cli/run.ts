import type { NodeConfig } from '../config.js'
import { dataDirPaths, removeApiUrl, writeApiUrl } from '../data-dir.js'
import { createLogger } from '../logger.js'
import { createNode } from '../node.js'
import { ED25519_LIBRARY } from '../signing/index.js'
import { mallocLine, youngGenerationLine } from './memory-setup.js'

/**
 * The runtime line of the start banner. Node 20 still runs a node, but it gets no security fixes
 * and, measured on the same build, spends more CPU per event than Node 24 (BENCHMARKS.md,
 * "Round 5"): an operator should hear it from the node, not find it in a README.
 */
export function runtimeLine (version: string): string {
  const major = Number(/^v(\d+)\./.exec(version)?.[1])
  const advice = major <= 20 ? '   (end of life since April 2026, no security fixes: run Node.js 24, which is also faster)' : ''
  return `  node.js   ${version}${advice}`
}

/** Exit code after a second SIGINT/SIGTERM: 128 + SIGINT, what a shell reports for Ctrl-C. */
export const EXIT_INTERRUPTED = 130

/**
 * `cdgossip start`: run a node until SIGTERM/SIGINT. The first signal stops gracefully (API closes,
 * in-flight publishes finish, delivery progress is already persisted, libp2p and LevelDB close);
 * a second signal exits at once with code 130. The handlers are installed before the node
 * starts, so a signal during start-up (systemd stopping a slow start) still stops it cleanly
 * once it is up rather than killing it halfway through opening its store.
 */
export async function runNode (config: Readonly<NodeConfig>, out: (line: string) => void): Promise<number> {
  const log = createLogger({ level: config.log.level, pretty: config.log.pretty })
  const node = await createNode(config, { log })

  let signalled: NodeJS.Signals | undefined
  let wake: () => void = () => {}
  const onSignal = (signal: NodeJS.Signals): void => {
    if (signalled !== undefined) {
      log.warn({ signal }, 'second signal: exiting now')
      process.exit(EXIT_INTERRUPTED)
    }
    signalled = signal
    wake()
  }
  process.on('SIGINT', onSignal)
  process.on('SIGTERM', onSignal)

  try {
    await node.start()
    await writeApiUrl(config.dataDir, node.apiUrl)
  } catch (err) {
    await node.stop().catch((stopErr: unknown) => { log.warn({ err: stopErr }, 'stop after failed start') })
    process.off('SIGINT', onSignal)
    process.off('SIGTERM', onSignal)
    throw err
  }
  out(`cdgossip ${config.network} node started`)
  out(`  peer ID   ${node.peerId}`)
  out(`  REST API  ${node.apiUrl}   (token: ${dataDirPaths(config.dataDir).token})`)
  for (const addr of node.multiaddrs()) out(`  p2p       ${addr}`)
  out(`  web page  ${node.apiUrl}/ui/   (run \`cdgossip ui\` for the login link)`)
  if (node.hooksUrl !== undefined) out(`  hooks     ${node.hooksUrl}/hooks/<source>   (tool webhooks; no token)`)
  out(`  data dir  ${config.dataDir}`)
  // libsodium is the fast path; the fallback verifies at half the speed and is less strict (README)
  out(`  ed25519   ${ED25519_LIBRARY === 'libsodium' ? 'libsodium' : 'node:crypto (no prebuilt libsodium addon for this platform)'}`)
  out(mallocLine())
  out(youngGenerationLine())
  out(runtimeLine(process.version))
  out('Stop with Ctrl-C (SIGINT) or SIGTERM.')

  if (signalled === undefined) await new Promise<void>(resolve => { wake = resolve })
  log.info({ signal: signalled }, 'stopping')
  try {
    await node.stop()
  } catch (err) {
    log.error({ err }, 'stop failed')
    return 1
  }
  // clients must not find a URL nobody answers on
  await removeApiUrl(config.dataDir)
  log.info('stopped')
  return 0
}
