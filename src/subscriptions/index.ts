export {
  SubscriptionRegistry,
  DEFAULT_MAX_SUBSCRIPTIONS,
  MAX_CLASS_CACHE_ENTRIES
} from './subscription-registry.js'
export type {
  AddSubscriptionOptions,
  RemoveSubscriptionOptions,
  SubscriptionChange,
  SubscriptionChangeListener,
  SubscriptionOrigin,
  SubscriptionRegistryComponents,
  SubscriptionRegistryInit
} from './subscription-registry.js'
export { subscriptionMatches, toMatchable, matchableFrom } from './matching.js'
export type { ResolveName } from './matching.js'
export {
  subscriptionInputSchema,
  validateSubscriptionInput,
  validateClasses,
  validateStoredSubscription,
  isSubscriptionId,
  SUBSCRIPTION_ID_REGEX,
  MAX_SUBSCRIPTION_CLASSES,
  MAX_FILTER_ORIGINS,
  MAX_FILTER_STRING_LENGTH,
  MAX_OUTCOME_LENGTH,
  MAX_CURSOR_LENGTH
} from './subscription-input.js'
export {
  validateWebhookSink,
  isReservedHeader,
  RESERVED_HEADER_PREFIXES,
  HEADER_NAME_REGEX,
  HEADER_VALUE_REGEX,
  DEFAULT_WEBHOOK_MODE,
  DEFAULT_MAX_ATTEMPTS,
  MIN_MAX_ATTEMPTS,
  MAX_MAX_ATTEMPTS,
  DEFAULT_MAX_AGE_SECONDS,
  MIN_MAX_AGE_SECONDS,
  MAX_MAX_AGE_SECONDS,
  DEFAULT_TIMEOUT_MS,
  MIN_TIMEOUT_MS,
  MAX_TIMEOUT_MS,
  MAX_WEBHOOK_URL_LENGTH,
  MAX_WEBHOOK_HEADERS,
  MAX_HEADER_VALUE_LENGTH
} from './webhook-sink.js'
export type { CheckedWebhookSink } from './webhook-sink.js'
export {
  validateTriggerSink,
  isTriggerSinkType,
  sinkSchema,
  TRIGGER_SINK_TYPES,
  DEFAULT_GITHUB_API_URL,
  DEFAULT_GITLAB_URL,
  TOKEN_ENV_REGEX,
  MAX_TOKEN_FILE_LENGTH
} from './trigger-sinks.js'
export type { CheckedTriggerSink } from './trigger-sinks.js'
export type { NormalisedSubscriptionInput } from './subscription-input.js'
export { InvalidSubscriptionError, DuplicateSubscriptionError, ConfigSubscriptionError } from './errors.js'
export type { InvalidSubscriptionDetails } from './errors.js'
export type {
  MatchableEvent,
  Subscription,
  SubscriptionFilter,
  SubscriptionSink,
  SubscriptionStart,
  WebhookSink,
  CredentialRef,
  DeliveryLimits,
  DeliverySink,
  GithubDispatchSink,
  GitlabPipelineSink,
  JenkinsBuildSink,
  TriggerSink,
  TriggerSinkType
} from './types.js'
export { subscriptionsWant, addConfigSubscriptions, canonicalJson } from './start-points.js'
