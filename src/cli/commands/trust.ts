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
  const { values, positionals } = parse(args, { 'peer-id': { type: 'string' }, name: { type: 'string' }, source: { type: 'string', multiple: true }, class: { type: 'string', multiple: true }, json: { type: 'boolean' } })
  const api = await client(values)
  switch (positionals[0]) {
    case 'list':
    case undefined: {
      const { body } = await api.request<{ mode: string, entries: Array<{ peerId: string, name: string, sources: string[], classes: string[] }> }>('GET', '/v1/trust')
      if (values.json === true) { out(JSON.stringify(body)); return EXIT.OK }
      out(`mode: ${body.mode}`)
      out(body.entries.length === 0 ? 'no trusted communities' : formatTable(['NAME', 'PEER ID', 'SOURCES', 'CLASSES'], body.entries.map(e => [e.name, e.peerId, e.sources.join(','), e.classes.join(',')])))
      return EXIT.OK
    }
    case 'add': {
      const peerId = str(values['peer-id'])
      const name = str(values.name)
      const sources = list(values.source)
      if (peerId === undefined || name === undefined || sources === undefined) throw new UsageError('usage: cdgossip trust add --peer-id ID --name NAME --source PREFIX... [--class PATTERN]...')
      const classes = list(values.class)
      const { body } = await api.request<{ name: string, peerId: string }>('POST', '/v1/trust', { json: { peerId, name, sources, ...(classes === undefined ? {} : { classes }) } })
      out(`trusted ${body.name} (${body.peerId})`)
      return EXIT.OK
    }
    case 'remove': {
      const who = positionals[1]
      if (who === undefined) throw new UsageError('usage: cdgossip trust remove PEER_ID|NAME')
      await api.request('DELETE', `/v1/trust/${encodeURIComponent(who)}`)
      out(`removed ${who}`)
      return EXIT.OK
    }
    default:
      throw new UsageError(`unknown trust action ${positionals[0]}: use list, add or remove`)
  }
}
