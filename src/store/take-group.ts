/**
 * Group commit's first step, shared by the store's write queue and publish's: removes from the
 * front of `queue` the calls that fit in one commit of at most `max` items (always at least one
 * call, so a single larger call still goes, alone) and returns them in order.
 */
export function takeGroup<T> (queue: T[], max: number, itemsOf: (call: T) => number): T[] {
  const group: T[] = []
  let items = 0
  while (queue.length > 0) {
    const size = itemsOf(queue[0] as T)
    if (group.length > 0 && items + size > max) break
    group.push(queue.shift() as T)
    items += size
  }
  return group
}
