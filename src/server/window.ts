/**
 * Flow control for streams: what one stream, and all streams together, may hold
 * in memory at once (items read but not answered, verdicts not yet written).
 * A stream may always hold one item, so a stream never starves while others are
 * full; the server-wide bound is then `totalBytes` plus one item per stream.
 */

/** The bytes all streams hold together, and the streams waiting for room. */
export class ByteBudget {
  private used = 0;
  private readonly waiters = new Set<() => void>();

  constructor(readonly limit: number) {}

  get inUse(): number {
    return this.used;
  }

  has(bytes: number): boolean {
    return this.used + bytes <= this.limit;
  }

  take(bytes: number): void {
    this.used += bytes;
  }

  give(bytes: number): void {
    this.used -= bytes;
    if (this.waiters.size === 0) return;
    for (const wake of [...this.waiters]) wake();
  }

  /** Called (once) the next time bytes are given back. */
  onFree(wake: () => void): () => void {
    const once = () => {
      this.waiters.delete(once);
      wake();
    };
    this.waiters.add(once);
    return () => this.waiters.delete(once);
  }
}

export interface WindowLimits {
  items: number;
  bytes: number;
}

/** One stream's share: items and bytes held, bounded per stream and by the shared budget. */
export class StreamWindow {
  private items = 0;
  private bytes = 0;
  private wake: (() => void) | undefined;
  private cancelWait: (() => void) | undefined;

  constructor(
    private readonly limits: WindowLimits,
    private readonly shared: ByteBudget,
  ) {}

  get heldItems(): number {
    return this.items;
  }

  /** Whether one more item of `bytes` may be read now. */
  private fits(bytes: number): boolean {
    if (this.items === 0) return true;
    return (
      this.items < this.limits.items && this.bytes + bytes <= this.limits.bytes && this.shared.has(bytes)
    );
  }

  /** Resolves once an item of `bytes` fits (at once, usually), or when `signal` aborts. */
  async admit(bytes: number, signal: AbortSignal): Promise<void> {
    while (!this.fits(bytes) && !signal.aborted) {
      await new Promise<void>((resolve) => {
        const done = () => {
          signal.removeEventListener("abort", done);
          this.cancelWait?.();
          this.wake = this.cancelWait = undefined;
          resolve();
        };
        this.wake = done;
        this.cancelWait = this.shared.onFree(done);
        signal.addEventListener("abort", done);
      });
    }
  }

  hold(bytes: number, items = 0): void {
    this.items += items;
    this.bytes += bytes;
    this.shared.take(bytes);
  }

  release(bytes: number, items = 0): void {
    this.items -= items;
    this.bytes -= bytes;
    this.shared.give(bytes);
    this.wake?.();
  }

  /** Give back everything still held (the stream is over). */
  releaseAll(): void {
    this.release(this.bytes, this.items);
  }
}
