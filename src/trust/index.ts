export { TrustPolicy, DEFAULT_TRUST_MODE, DEFAULT_MAX_TRUST_ENTRIES, sourceHasPrefix } from './trust-policy.js'
export type { TrustPolicyComponents, TrustPolicyInit } from './trust-policy.js'
export {
  trustEntryInputSchema,
  validateTrustEntry,
  trustKeyOf,
  validateTrustName,
  validateTrustSources,
  validateTrustClasses,
  parseEd25519PeerId,
  describeValue,
  TRUST_NAME_REGEX,
  SELF_NAME,
  MAX_PEER_ID_LENGTH,
  MAX_TRUST_SOURCES,
  MAX_SOURCE_PREFIX_LENGTH,
  MAX_TRUST_CLASSES,
  DEFAULT_TRUST_CLASSES
} from './trust-entry.js'
export type { TrustEntryInput } from './trust-entry.js'
export { UntrustedSignerError, InvalidTrustEntryError } from './errors.js'
export type { UntrustedReason, UntrustedSignerDetails, InvalidTrustEntryDetails } from './errors.js'
export { CLASS_PATTERN_REGEX, MAX_CLASS_PATTERN_LENGTH, isValidClassPattern } from './class-pattern.js'
export type { TrustCheck, TrustEntry, TrustMode, TrustVerdict, CommunityMembershipFacts, MembershipLookup } from './types.js'
