/**
 * What the store offers the stateful components and the metrics, as shapes they depend on instead
 * of store/.
 *
 * The store hands each stateful component (subscriptions, trust, delivery progress, sync refusals)
 * a section of this shape; the components depend on the shape, not on store/.
 */
export interface StateSection<T> {
  get(key: string): Promise<T | undefined>
  put(key: string, value: T): Promise<void>
  del(key: string): Promise<void>
  entries(): AsyncIterable<[string, T]>
}

/** The store's size, read by metrics at scrape time. */
export interface StoreStats {
  events: number
  approximateBytes: number
}
