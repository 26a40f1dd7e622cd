/** An unbounded async queue: producers push, one consumer iterates until end() or fail(). */
export class AsyncQueue<T> implements AsyncIterable<T> {
  private readonly items: T[] = [];
  private waiting: ((r: IteratorResult<T>) => void) | undefined;
  private rejectWaiting: ((e: unknown) => void) | undefined;
  private done = false;
  private error: unknown;

  get length(): number {
    return this.items.length;
  }

  push(item: T): void {
    if (this.done) return;
    if (this.waiting) {
      const w = this.waiting;
      this.waiting = this.rejectWaiting = undefined;
      w({ value: item, done: false });
    } else {
      this.items.push(item);
    }
  }

  /** Up to `max` items already queued, without waiting. */
  take(max: number): T[] {
    return this.items.splice(0, max);
  }

  end(): void {
    this.done = true;
    this.wake();
  }

  fail(err: unknown): void {
    this.error = err;
    this.done = true;
    this.wake();
  }

  private wake(): void {
    if (!this.waiting || !this.rejectWaiting) return;
    const [w, r] = [this.waiting, this.rejectWaiting];
    this.waiting = this.rejectWaiting = undefined;
    if (this.error !== undefined) r(this.error);
    else w({ value: undefined, done: true });
  }

  [Symbol.asyncIterator](): AsyncIterator<T> {
    return {
      next: () => {
        const item = this.items.shift();
        if (item !== undefined) return Promise.resolve({ value: item, done: false });
        if (this.error !== undefined) return Promise.reject(this.error);
        if (this.done) return Promise.resolve({ value: undefined, done: true });
        return new Promise((resolve, reject) => {
          this.waiting = resolve;
          this.rejectWaiting = reject;
        });
      },
    };
  }
}
