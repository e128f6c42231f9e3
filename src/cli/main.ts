import { VERSION } from '../node/version.js'
import { EXIT } from './command.js'
import type { CommandContext, Out } from './command.js'
import { COMMANDS } from './commands/index.js'
import type { ProgressStream } from './progress.js'
import { reportFailure } from './report.js'

/** What `cdgossip help` prints: every command of commands/, grouped as an operator thinks of them. */
const USAGE = `usage: cdgossip <command> [options]

Node:
  init      [--data-dir D] [--network N] [--api-port P] [--p2p-port P]   create identity, token and config
  start     [--data-dir D] [--network N] [--api-port P] [--p2p-port P] [--listen MA]... [--peer MA]...
            [--mdns] [--relay PATTERN]... [--target-connections N] [--hooks-port P] [--log-level L]   run the node (creates the data dir if needed)
  config    show [--data-dir D] [--json]                                what the running node uses (else the file, labelled)
  config    check [--data-dir D] [start's flags]                         validate as start would: exit 0 valid, 3 not

Events (talk to a running node: --api-url/CDGOSSIP_API_URL, --token/CDGOSSIP_TOKEN, or the data dir;
        several nodes of one community: --api-url URL --api-url URL2, or CDGOSSIP_API_URL=URL,URL2):
  publish   [FILE|-]                          publish one event, a JSON array, or JSON lines
  events    [--type T|PATTERN] [--source S] [--subject S] [--chain-id C] [--origin O]
            [--since T] [--until T] [--limit N] [--cursor C] [--all] [--json]
  tail      [same filters] [-n N | --from-beginning] [--json]
                                              print new events live (-n: the last N first), resuming after reconnects
  export    [same filters] > file.jsonl       write signed events as JSON lines
  import    FILE                              verify and store signed events from a JSON-lines export
  verify    FILE                              check signed records offline: a verdict per line of an export
  trace     DIGEST|CHAIN_ID|PURL [--direction up|down|both] [--depth N] [--resolve] [--json]
                                              the events upstream/downstream, as an indented tree
  artifact  PURL [--resolve] [--json]         one artifact across communities: builds, tests, the confidence summary
                                              (--resolve: first fetch what is not held from peers)

Federation:
  trust     list | add (--peer-id ID | --community ROOTKEY) --name N --source PREFIX... [--class PATTERN]... | remove ID|ROOTKEY|NAME
  subscribe --class PATTERN... [--id ID] [--origin O]... [--source-prefix P] [--subject S] [--outcome O]
            [--from now|beginning|cursor:C|time:T] [--include-untrusted]
            [--webhook URL [--structured] [--header K=V]... [--max-attempts N] [--max-age SECONDS] [--timeout MS]]
  subscriptions list | remove ID | dead-letters ID | redrive ID
  peers                                       connected peers, with trust names

Community root key (offline; only publish talks to a node):
  community init --name N --out FILE | show (--key FILE | --chain FILE) [--json]
  community add-node --key FILE --peer-id ID [--source P]... [--class C]... | remove-node --key FILE --peer-id ID
  community revoke --key FILE --peer-id ID [--reason TEXT] | rotate-root --key FILE --new-key-out FILE2
  community export --key FILE [--out chain.json] | publish (--key FILE | --chain FILE)
  status                                      node, topics, sync and store at a glance
  ui                                          the web page's login link (open it in a browser on this machine)

Tools in (webhooks of GitHub, GitLab, Gerrit, Jenkins, Nexus, Harbor, older CDEvents, any JSON):
  source    add --name N --kind K (--secret-file F | --secret-env V) [--previous-secret-file F] [--setting K=V]...
  source    list | remove NAME | test --name N PAYLOAD.json [--header K=V]...   (test: what it would publish)
`

let stdoutGuarded = false

/**
 * A line on stdout. When the reader goes away (`cdgossip export | head -1`) the write fails with
 * EPIPE; that is the reader's choice, not a failure: exit quietly instead of a stack trace.
 */
function stdoutLine (line: string): void {
  if (!stdoutGuarded) {
    stdoutGuarded = true
    process.stdout.on('error', (e: NodeJS.ErrnoException) => {
      if (e.code === 'EPIPE') process.exit(EXIT.OK)
      throw e
    })
  }
  process.stdout.write(line + '\n')
}

/**
 * The `cdgossip` command: runs one command and returns its exit code (EXIT in command.ts). Output
 * for humans goes to stdout; errors are one line on stderr. Never throws for expected failures.
 */
export async function main (argv: string[], out: Out = stdoutLine, err: Out = line => { process.stderr.write(line + '\n') }, progress: ProgressStream = process.stderr): Promise<number> {
  const [command, ...rest] = argv
  if (command === undefined || command === 'help' || command === '--help' || command === '-h') {
    if (command === undefined) err(USAGE)
    else out(USAGE)
    return command === undefined ? EXIT.USAGE : EXIT.OK
  }
  if (command === '--version' || command === '-v') {
    out(VERSION)
    return EXIT.OK
  }
  const run = Object.hasOwn(COMMANDS, command) ? COMMANDS[command] : undefined
  if (run === undefined) {
    err(`cdgossip: unknown command ${command}\n${USAGE}`)
    return EXIT.USAGE
  }
  if (rest.includes('--help') || rest.includes('-h')) {
    out(USAGE)
    return EXIT.OK
  }
  try {
    const ctx: CommandContext = { progress, err }
    return await run(rest, out, ctx)
  } catch (e) {
    return reportFailure(command, e, err)
  }
}
