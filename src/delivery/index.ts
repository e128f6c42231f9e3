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
  DeliveryAttempt
} from './types.js'
