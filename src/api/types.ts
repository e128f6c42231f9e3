/** api/ talks to the node only through its facade, whose contract lives in contracts/ (STYLE rule 4). */
export type {
  DeadLetter,
  ImportResult,
  MetricsScrape,
  NodeConfiguration,
  NodeFacade,
  NodeInfo,
  PublishItem,
  PublishReceipt,
  RequestSample,
  SourceInput,
  SourceTestInput,
  SourceTestResult,
  SourceView,
  StreamOptions,
  SubscriptionInput
} from '../contracts/node-facade.js'
export type { CDEvent } from '../events/types.js'
