export {
  DeliveryService,
  DEFAULT_BACKOFF_BASE_MS,
  DEFAULT_BACKOFF_MAX_MS,
  DEFAULT_RETRY_AFTER_MAX_MS,
  DEFAULT_PAGE_SIZE,
  DEFAULT_MAX_DEAD_LETTERS,
  DEFAULT_LAG_SCAN_LIMIT
} from './delivery-service.js'
export type { DeliveryServiceComponents, DeliveryServiceInit } from './delivery-service.js'
export {
  openEventStream,
  formatEventFrame,
  formatOverflowFrame,
  HEARTBEAT_FRAME,
  DEFAULT_STREAM_PAGE_SIZE
} from './event-stream.js'
export type { EventStreamOptions } from './event-stream.js'
export {
  resolveWebhookSink,
  buildWebhookRequest,
  percentEncodeHeaderValue,
  STRUCTURED_CONTENT_TYPE
} from './cloudevents-http.js'
export type { ResolvedSink, WebhookRequest } from './cloudevents-http.js'
export { resolveDeliveryTarget } from './delivery-target.js'
export type { DeliveryTarget, PreparedRequest, TargetOptions } from './delivery-target.js'
export { readCredential, CredentialError, MAX_CREDENTIAL_BYTES } from './credentials.js'
export type { CredentialErrorDetails } from './credentials.js'
export {
  githubDispatchRequest,
  gitlabPipelineRequest,
  jenkinsBuildRequest,
  jenkinsJobPath,
  githubRateLimitWait,
  clientPayload,
  cdeventVariables,
  triggerFacts,
  GITHUB_API_VERSION,
  GITHUB_ACCEPT,
  TRIGGER_USER_AGENT,
  MAX_DISPATCH_EVENT_TYPE_LENGTH,
  MAX_CLIENT_PAYLOAD_BYTES
} from './trigger-requests.js'
export type { TriggerFacts, TriggerRequest } from './trigger-requests.js'
export { backoffDelay, parseRetryAfter } from './backoff.js'
export { InvalidSinkError, UnknownSubscriptionError } from './errors.js'
export type { InvalidSinkDetails } from './errors.js'
export type {
  DeliverySource,
  EventStreamSource,
  SubscriptionMatcher,
  DeadLetter,
  DeliveryProgress,
  DeliveryHead,
  DeliveryState,
  DeliveryStatus,
  DeliveryAttempt,
  SharedProgress
} from './types.js'
