/**
 * Runs async tasks one at a time, in submission order. A failed task rejects its own caller
 * and does not stop the queue.
 */
export class SerialQueue {
  private tail: Promise<unknown> = Promise.resolve()
  private pending = 0

  async run<T> (task: () => Promise<T>): Promise<T> {
    this.pending++
    const result = this.tail.then(task, task)
    this.tail = result.then(() => {}, () => {}).finally(() => { this.pending-- })
    return await result
  }

  get size (): number {
    return this.pending
  }

  async idle (): Promise<void> {
    while (this.pending > 0) await this.tail
  }
}
