import type { NodeConfig } from './config.js'
import { dataDirPaths, removeApiUrl, writeApiUrl } from './data-dir.js'
import { createLogger } from './logger.js'
import { createNode } from './node.js'

/**
 * `cdgossip start`: run a node until SIGTERM/SIGINT. The first signal stops gracefully (API closes,
 * in-flight publishes finish, delivery progress is already persisted, libp2p and LevelDB close);
 * a second signal exits at once with code 130.
 */
export async function runNode (config: Readonly<NodeConfig>, out: (line: string) => void): Promise<number> {
  const log = createLogger({ level: config.log.level, pretty: config.log.pretty })
  const node = await createNode(config, { log })
  await node.start()
  await writeApiUrl(config.dataDir, node.apiUrl)
  out(`cdgossip ${config.network} node started`)
  out(`  peer ID   ${node.peerId}`)
  out(`  REST API  ${node.apiUrl}   (token: ${dataDirPaths(config.dataDir).token})`)
  for (const addr of node.multiaddrs()) out(`  p2p       ${addr}`)
  out(`  data dir  ${config.dataDir}`)
  out('Stop with Ctrl-C (SIGINT) or SIGTERM.')

  return await new Promise<number>(resolve => {
    let stopping = false
    const onSignal = (signal: NodeJS.Signals): void => {
      if (stopping) {
        log.warn({ signal }, 'second signal: exiting now')
        process.exit(130)
      }
      stopping = true
      log.info({ signal }, 'stopping')
      node.stop().then(async () => {
        await removeApiUrl(config.dataDir)
        log.info('stopped')
        resolve(0)
      }, err => {
        log.error({ err }, 'stop failed')
        resolve(1)
      })
    }
    process.on('SIGINT', onSignal)
    process.on('SIGTERM', onSignal)
  })
}
