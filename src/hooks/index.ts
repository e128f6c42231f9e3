export { SOURCE_KIND_NAMES } from './types.js'
export type { HookDelivery, SourceKind, SourceKindName, SourceSecrets, Translation } from './types.js'
export { SOURCE_KINDS, sourceKind, type AnySourceKind } from './registry.js'
export {
  ConfigSourceError, InvalidSourceError, MAX_SECRET_REF_LENGTH, MAX_SOURCES, SOURCE_FIELDS, SOURCE_NAME_REGEX, SOURCE_NAME_RULE, SourceSecretError,
  validateSourceInput, type Source, type SourceInput
} from './sources.js'
export {
  DEFAULT_HOOKS_BODY_LIMIT, HOOK_ADDRESS_RATE, HOOK_OUTCOMES, HOOK_SOURCE_RATE, HooksListener, MAX_TRACKED_ADDRESSES,
  toDelivery, translateDelivery, type ActiveSource, type HookCounts, type HookOutcome, type HookReceipt, type HooksListenerInit
} from './listener.js'
export { KeyedBuckets, type BucketRate } from './rate-limit.js'
