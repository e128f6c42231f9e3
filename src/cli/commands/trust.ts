import { UsageError, list, parse, str } from '../args.js'
import { EXIT } from '../command.js'
import type { CommandGroup, Out } from '../command.js'
import { client } from '../connect.js'
import { formatTable } from '../format.js'

/** The trust entries of a running node. */
export const TRUST_COMMANDS: CommandGroup = {
  trust: cmdTrust
}

async function cmdTrust (args: string[], out: Out): Promise<number> {
  const { values, positionals } = parse(args, { 'peer-id': { type: 'string' }, community: { type: 'string' }, name: { type: 'string' }, source: { type: 'string', multiple: true }, class: { type: 'string', multiple: true }, json: { type: 'boolean' } })
  const api = await client(values)
  switch (positionals[0]) {
    case 'list':
    case undefined: {
      const { body } = await api.request<{ mode: string, entries: Array<{ peerId?: string, community?: string, name: string, sources: string[], classes: string[] }> }>('GET', '/v1/trust')
      if (values.json === true) { out(JSON.stringify(body)); return EXIT.OK }
      out(`mode: ${body.mode}`)
      out(body.entries.length === 0
        ? 'no trusted communities'
        : formatTable(['NAME', 'TRUSTS', 'PEER ID / ROOT KEY', 'SOURCES', 'CLASSES'], body.entries.map(e => [e.name, e.peerId === undefined ? 'community' : 'node', e.peerId ?? e.community ?? '', e.sources.join(','), e.classes.join(',')])))
      return EXIT.OK
    }
    case 'add': {
      const peerId = str(values['peer-id'])
      const community = str(values.community)
      const name = str(values.name)
      const sources = list(values.source)
      if ((peerId === undefined) === (community === undefined) || name === undefined || sources === undefined) {
        throw new UsageError('usage: cdgossip trust add (--peer-id ID | --community ROOTKEY) --name NAME --source PREFIX... [--class PATTERN]...')
      }
      const classes = list(values.class)
      const key = peerId === undefined ? { community } : { peerId }
      const { body } = await api.request<{ name: string, peerId?: string, community?: string }>('POST', '/v1/trust', { json: { ...key, name, sources, ...(classes === undefined ? {} : { classes }) } })
      out(body.peerId === undefined ? `trusted ${body.name} (community ${body.community ?? ''}: every node its manifest lists)` : `trusted ${body.name} (${body.peerId})`)
      return EXIT.OK
    }
    case 'remove': {
      const who = positionals[1]
      if (who === undefined) throw new UsageError('usage: cdgossip trust remove PEER_ID|ROOTKEY|NAME')
      await api.request('DELETE', `/v1/trust/${encodeURIComponent(who)}`)
      out(`removed ${who}`)
      return EXIT.OK
    }
    default:
      throw new UsageError(`unknown trust action ${positionals[0]}: use list, add or remove`)
  }
}
