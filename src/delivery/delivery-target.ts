import type { StoredEvent } from '../events/records.js'
import { InvalidSubscriptionError, isTriggerSinkType, validateTriggerSink } from '../subscriptions/index.js'
import type { CheckedTriggerSink, CredentialRef, DeliverySink } from '../subscriptions/index.js'
import { buildWebhookRequest, resolveWebhookSink } from './cloudevents-http.js'
import { readCredential } from './credentials.js'
import { InvalidSinkError } from './errors.js'
import { githubDispatchRequest, githubRateLimitWait, gitlabPipelineRequest, jenkinsBuildRequest } from './trigger-requests.js'

/** One attempt's request: where to POST, and the secrets that must never show up in errors. */
export interface PreparedRequest {
  url: string
  headers: Record<string, string>
  body: Uint8Array
  /** values to scrub from anything the receiver answers (dead letters, status, logs) */
  secrets: readonly string[]
  /** the tool's rate-limit answers on otherwise final statuses (GitHub's 403) */
  rateLimitWait?: (status: number, headers: Headers, nowMs: number) => number | undefined
}

/**
 * What the delivery loop needs of any sink: its budget, and the request for one record. The loop
 * (subscription-worker.ts) is the same for every sink type; only prepare() differs.
 */
export interface DeliveryTarget {
  type: DeliverySink['type']
  maxAttempts: number
  maxAgeMs: number
  timeoutMs: number
  /** The request for one record, reading the credential now. Throws CredentialError when it cannot be read. */
  prepare: (stored: StoredEvent) => Promise<PreparedRequest>
  /** Throws CredentialError when the sink's credential cannot be read now; resolves for sinks without one. */
  checkCredential: () => Promise<void>
}

export interface TargetOptions {
  /** where `tokenEnv` names are looked up; tests pass their own */
  env?: NodeJS.ProcessEnv
}

function checkTrigger (sink: DeliverySink): CheckedTriggerSink {
  try {
    return validateTriggerSink(sink)
  } catch (err) {
    if (!(err instanceof InvalidSubscriptionError)) throw err
    throw new InvalidSinkError({ problems: [err.message] }, { cause: err })
  }
}

function credentialOf (sink: CheckedTriggerSink): CredentialRef {
  return sink.tokenFile !== undefined ? { tokenFile: sink.tokenFile } : { tokenEnv: sink.tokenEnv }
}

/**
 * Check a sink with its one validator (webhook-sink.ts or trigger-sinks.ts, the rules the API and
 * config file apply) and make it a target. A sink that fails them is InvalidSinkError.
 */
export function resolveDeliveryTarget (sink: DeliverySink, options: TargetOptions = {}): DeliveryTarget {
  if (!isTriggerSinkType(sink.type)) {
    const webhook = resolveWebhookSink(sink as Extract<DeliverySink, { type: 'webhook' }>)
    return {
      type: 'webhook',
      maxAttempts: webhook.maxAttempts,
      maxAgeMs: webhook.maxAgeMs,
      timeoutMs: webhook.timeoutMs,
      prepare: async (stored) => ({ url: webhook.url, ...buildWebhookRequest(stored, webhook), secrets: [] }),
      checkCredential: async () => {}
    }
  }
  const checked = checkTrigger(sink)
  const credential = credentialOf(checked)
  const read = async (): Promise<string> => await readCredential(credential, options.env)
  return {
    type: checked.type,
    maxAttempts: checked.maxAttempts,
    maxAgeMs: checked.maxAgeSeconds * 1000,
    timeoutMs: checked.timeoutMs,
    checkCredential: async () => { await read() },
    prepare: async (stored) => {
      const token = await read()
      const request = checked.type === 'github-dispatch'
        ? githubDispatchRequest(stored, checked, token)
        : checked.type === 'gitlab-pipeline'
          ? gitlabPipelineRequest(stored, checked, token)
          : jenkinsBuildRequest(stored, checked, token)
      const secrets = [token, encodeURIComponent(token)]
      if (checked.type === 'jenkins-build') secrets.push(Buffer.from(`${checked.user}:${token}`).toString('base64'))
      return checked.type === 'github-dispatch' ? { ...request, secrets, rateLimitWait: githubRateLimitWait } : { ...request, secrets }
    }
  }
}
