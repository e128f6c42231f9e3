export { buildApi, DEFAULT_BODY_LIMIT, REDACTED_LOG_PATHS, type ApiComponents, type ApiInit } from './build-api.js'
export { ERROR_STATUS, ERROR_DOCS, INTERNAL_ERROR_CODE, isApiErrorCode, type ApiErrorCode } from './error-status.js'
export type { ErrorBody, Violation } from './error-handler.js'
export { MAX_BATCH_ITEMS, EVENT_MEDIA_TYPES } from './cloudevents-http.js'
export { DEFAULT_PAGE_LIMIT, MAX_PAGE_LIMIT } from './routes/events-schemas.js'
export { DOCS_PREFIX } from './docs.js'
export { UnauthorizedError, UnsupportedMediaTypeError, MalformedCloudEventError, ApiConfigError, NotFoundError } from './errors.js'
export type {
  NodeFacade, NodeInfo, NodeConfiguration, PublishItem, PublishReceipt, SubscriptionInput, DeadLetter, CDEvent, MetricsScrape, RequestSample
} from './types.js'
