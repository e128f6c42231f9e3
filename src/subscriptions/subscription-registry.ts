import { randomUUID } from 'node:crypto'
import { STANDARD_EVENT_CLASSES, classMatchesPattern } from '../events/index.js'
import { ConfigSubscriptionError, DuplicateSubscriptionError, InvalidSubscriptionError } from './errors.js'
import { subscriptionMatches } from './matching.js'
import { isSubscriptionId, validateStoredSubscription, validateSubscriptionInput } from './subscription-input.js'
import type { ResolveName } from './matching.js'
import type { EventClass } from '../events/index.js'
import type { MatchableEvent, Subscription } from './types.js'

/**
 * Every subscription is matched against every stored event; past this many a deployment wants
 * a broker, not a node. Also bounds what an API client can make the node hold.
 * @default 1000
 */
export const DEFAULT_MAX_SUBSCRIPTIONS = 1000
/**
 * Classes seen on the receive path, each with the subscriptions whose patterns cover it.
 * Classes come from the network (custom ones are open-ended), so the cache is cleared when full.
 */
export const MAX_CLASS_CACHE_ENTRIES = 1024
/** Attempts at a fresh generated id before concluding the generator is broken. */
const MAX_ID_ATTEMPTS = 5

export type SubscriptionOrigin = Subscription['origin']

export interface SubscriptionChange {
  type: 'added' | 'removed'
  subscription: Subscription
}

export type SubscriptionChangeListener = (change: SubscriptionChange) => void

export interface SubscriptionRegistryComponents {
  /** trust name of a peer ID, for `filter.origins` given as names; `TrustPolicy.nameOf` fits */
  resolveName?: ResolveName
  /** @default () => new Date() */
  now?: () => Date
  /** must return ids matching SUBSCRIPTION_ID_REGEX; @default crypto.randomUUID */
  newId?: () => string
}

export interface SubscriptionRegistryInit {
  /** @default DEFAULT_MAX_SUBSCRIPTIONS */
  maxSubscriptions?: number
}

export interface AddSubscriptionOptions {
  /** `config` subscriptions cannot be removed over the API */
  origin: SubscriptionOrigin
  /** overrides the registry's clock for this call */
  now?: () => Date
  /** overrides the registry's id generator for this call */
  newId?: () => string
}

export interface RemoveSubscriptionOptions {
  /** who asks: the API may not remove `config` subscriptions. @default 'api' */
  origin?: SubscriptionOrigin
}

function deepFreeze (sub: Subscription): Subscription {
  Object.freeze(sub.classes)
  if (sub.filter.origins !== undefined) Object.freeze(sub.filter.origins)
  Object.freeze(sub.filter)
  Object.freeze(sub.start)
  if (sub.sink.type === 'webhook' && sub.sink.headers !== undefined) Object.freeze(sub.sink.headers)
  Object.freeze(sub.sink)
  return Object.freeze(sub)
}

/**
 * The node's subscriptions, in memory. Pure and synchronous: persistence and topic joins are the
 * node's job, driven by `onChange`. Returned subscriptions are frozen and shared, not copies.
 */
export class SubscriptionRegistry {
  private readonly resolveName: ResolveName
  private readonly now: () => Date
  private readonly newId: () => string
  private readonly maxSubscriptions: number
  private readonly subscriptions = new Map<string, Subscription>()
  private readonly byClass = new Map<EventClass, Subscription[]>()
  private readonly listeners = new Set<SubscriptionChangeListener>()

  constructor (components: SubscriptionRegistryComponents = {}, init: SubscriptionRegistryInit = {}) {
    this.resolveName = components.resolveName ?? (() => undefined)
    this.now = components.now ?? (() => new Date())
    this.newId = components.newId ?? randomUUID
    this.maxSubscriptions = init.maxSubscriptions ?? DEFAULT_MAX_SUBSCRIPTIONS
  }

  get size (): number {
    return this.subscriptions.size
  }

  /**
   * Validate, normalise and add a subscription from outside (API body or config file).
   * Throws InvalidSubscriptionError (bad field), DuplicateSubscriptionError (id taken).
   */
  add (input: unknown, options: AddSubscriptionOptions): Subscription {
    const normalised = validateSubscriptionInput(input)
    const { id: requestedId, ...fields } = normalised
    const id = requestedId ?? this.generateId(options.newId ?? this.newId)
    if (this.subscriptions.has(id)) throw new DuplicateSubscriptionError(id)
    this.ensureRoom()
    const createdAt = (options.now ?? this.now)().toISOString()
    return this.insert({ id, ...fields, createdAt, origin: options.origin })
  }

  /**
   * Put back a subscription the node persisted earlier (keeps its id, createdAt and origin).
   * It is validated again: a state record is input like any other.
   */
  restore (stored: unknown): Subscription {
    const sub = validateStoredSubscription(stored)
    if (this.subscriptions.has(sub.id)) throw new DuplicateSubscriptionError(sub.id)
    this.ensureRoom()
    return this.insert(sub)
  }

  /**
   * Remove by id; false when absent. Over the API (the default) a `config` subscription is refused
   * with ConfigSubscriptionError, since the next start would bring it back from the file anyway.
   */
  remove (id: string, options: RemoveSubscriptionOptions = {}): boolean {
    const sub = this.subscriptions.get(id)
    if (sub === undefined) return false
    if (sub.origin === 'config' && (options.origin ?? 'api') === 'api') throw new ConfigSubscriptionError(id)
    this.subscriptions.delete(id)
    this.byClass.clear()
    this.emit({ type: 'removed', subscription: sub })
    return true
  }

  get (id: string): Subscription | undefined {
    return this.subscriptions.get(id)
  }

  /** In the order added. */
  list (): Subscription[] {
    return [...this.subscriptions.values()]
  }

  /**
   * Listen for additions and removals (to persist them, join topics, start webhook workers).
   * Listeners run synchronously after the change; returns the unsubscribe function.
   */
  onChange (listener: SubscriptionChangeListener): () => void {
    this.listeners.add(listener)
    return () => { this.listeners.delete(listener) }
  }

  /**
   * The event classes (topics) the node must join: every known class a pattern covers, plus every
   * exact class named. `knownClasses` defaults to the standard vocabulary (STANDARD_EVENT_CLASSES);
   * pass custom classes the node knows of on top. A custom wildcard such as
   * `x.mytool-resource.*` cannot be expanded without its predicates, so custom classes must be
   * named exactly to be joined; `unexpandedPatterns` lists the wildcards that covered nothing.
   * Sorted, without duplicates.
   */
  topicsFor (knownClasses: readonly EventClass[] = STANDARD_EVENT_CLASSES): EventClass[] {
    const topics = new Set<EventClass>()
    for (const sub of this.subscriptions.values()) {
      for (const pattern of sub.classes) {
        if (pattern === '*' || pattern.endsWith('.*')) {
          for (const eventClass of knownClasses) {
            if (classMatchesPattern(pattern, eventClass)) topics.add(eventClass)
          }
        } else {
          topics.add(pattern)
        }
      }
    }
    return [...topics].sort()
  }

  /** Wildcard patterns in subscriptions that cover none of `knownClasses` (worth a warning). */
  unexpandedPatterns (knownClasses: readonly EventClass[] = STANDARD_EVENT_CLASSES): string[] {
    const patterns = new Set<string>()
    for (const sub of this.subscriptions.values()) {
      for (const pattern of sub.classes) {
        if ((pattern === '*' || pattern.endsWith('.*')) && !knownClasses.some(eventClass => classMatchesPattern(pattern, eventClass))) {
          patterns.add(pattern)
        }
      }
    }
    return [...patterns].sort()
  }

  /** Whether any subscription wants the event: the receive path stores only such events. */
  anySubscriptionWants (event: MatchableEvent): boolean {
    return this.candidates(event.eventClass).some(sub => subscriptionMatches(sub, event, this.resolveName))
  }

  /** The subscriptions that want the event, in the order added (for delivery). */
  matching (event: MatchableEvent): Subscription[] {
    return this.candidates(event.eventClass).filter(sub => subscriptionMatches(sub, event, this.resolveName))
  }

  /** Subscriptions whose class patterns cover the class; cached per class until the next change. */
  private candidates (eventClass: EventClass): Subscription[] {
    const cached = this.byClass.get(eventClass)
    if (cached !== undefined) return cached
    const found = [...this.subscriptions.values()].filter(sub => sub.classes.some(pattern => classMatchesPattern(pattern, eventClass)))
    if (this.byClass.size >= MAX_CLASS_CACHE_ENTRIES) this.byClass.clear()
    this.byClass.set(eventClass, found)
    return found
  }

  private generateId (newId: () => string): string {
    for (let attempt = 0; attempt < MAX_ID_ATTEMPTS; attempt++) {
      const id = newId()
      if (!isSubscriptionId(id)) throw new Error(`subscription id generator returned an invalid id: ${JSON.stringify(id)}`)
      if (!this.subscriptions.has(id)) return id
    }
    throw new Error(`subscription id generator returned ${MAX_ID_ATTEMPTS} ids already in use`)
  }

  private ensureRoom (): void {
    if (this.subscriptions.size >= this.maxSubscriptions) {
      throw new InvalidSubscriptionError('subscription', `the node holds the maximum of ${this.maxSubscriptions} subscriptions`)
    }
  }

  private insert (sub: Subscription): Subscription {
    const frozen = deepFreeze(sub)
    this.subscriptions.set(frozen.id, frozen)
    this.byClass.clear()
    this.emit({ type: 'added', subscription: frozen })
    return frozen
  }

  private emit (change: SubscriptionChange): void {
    for (const listener of [...this.listeners]) listener(change)
  }
}
