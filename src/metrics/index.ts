export {
  HTTP_DURATION_BUCKETS,
  MAX_CUSTOM_CLASS_LABELS,
  MAX_SUBSCRIPTION_LABELS,
  NodeMetrics
} from './node-metrics.js'
export type { NodeMetricsComponents, NodeMetricsInit } from './node-metrics.js'
export type { MetricsScrape } from '../contracts/node-facade.js'
export { BoundedLabel, ClassLabels, OTHER_LABEL, UNKNOWN_CLASS_LABEL, UNMATCHED_ROUTE_LABEL, methodLabel } from './labels.js'
export type { MetricsSources, P2PSource } from './types.js'
export type { EventObservation, EventPath } from '../contracts/observations.js'
