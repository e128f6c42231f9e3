import { TopicValidatorResult } from '@libp2p/interface'
import type { GossipSub, GossipsubMessage } from '@chainsafe/libp2p-gossipsub'
import type { TopicValidatorFn } from '@libp2p/interface'
import type { Logger } from 'pino'

/**
 * The topic validators, run in gossipsub's asynchronous validation mode (`asyncValidation`).
 *
 * Gossipsub first caches a new message as unchecked: it neither forwards it nor offers it in
 * IHAVE, and it does not ask a validator itself. It hands the message over with its id
 * (`gossipsub:message`); this runs the topic's validator, the whole receive path (decode, verify,
 * validate, store), and reports the verdict. Only an Accept forwards the message, so a node still
 * forwards only what it checked and stored.
 *
 * Why not the synchronous mode: a copy of the message that arrives from another peer while it is
 * being checked is counted as a duplicate of a cached message, and gossipsub does not forward the
 * message back to that peer on Accept (rust-libp2p does the same). Checking a frame takes
 * milliseconds (Ed25519 verification and the store write), time for other peers' copies to
 * arrive: in the bench's 30-node mesh a third of the duplicate copies are no longer sent. With
 * the synchronous mode, the message entered the cache only after its verdict, the duplicates went
 * unrecorded, and every receiver sent the message to every mesh peer but its source.
 *
 * A peer can fetch an unchecked message with IWANT: gossipsub serves any cached one. Only the
 * bytes it already names by their hash (the message id is the sha256 of the bytes), never
 * advertised by this node until checked; honest peers ask only for what was advertised.
 *
 * The cache keeps a message for 5 heartbeats (5 s). A check that ends later still stores the
 * record, but gossipsub no longer holds the message to forward: peers downstream get it through
 * sync. At saturation in the bench, records reach the receivers within a second of their publish
 * (BENCHMARKS.md, "Round 15").
 *
 * Returns the function that stops listening; verdicts still due after it are dropped (the message
 * is then neither forwarded nor penalised, as for a node that stopped).
 */
export function runTopicValidators (pubsub: GossipSub, validators: ReadonlyMap<string, TopicValidatorFn>, log?: Logger): () => void {
  let listening = true
  const check = async ({ propagationSource, msgId, msg }: GossipsubMessage): Promise<void> => {
    const validator = validators.get(msg.topic)
    let verdict: TopicValidatorResult = TopicValidatorResult.Ignore
    if (validator !== undefined) {
      try {
        verdict = await validator(propagationSource, msg)
      } catch (err) {
        // the event topics' validators answer every failure with a verdict; a control topic's may throw
        log?.debug({ err, topic: msg.topic }, 'topic validator failed; message ignored')
      }
    }
    if (listening && pubsub.isStarted()) pubsub.reportMessageValidationResult(msgId, propagationSource.toString(), verdict)
  }
  const onMessage = (event: CustomEvent<GossipsubMessage>): void => { void check(event.detail) }
  pubsub.addEventListener('gossipsub:message', onMessage)
  return () => {
    listening = false
    pubsub.removeEventListener('gossipsub:message', onMessage)
  }
}
