import type { Backend } from "./backend.js";
import { RECHECK_MS } from "./circuit.js";

/** No backend can take the call now, nor is one coming back soon enough: fail rather than queue. */
export class NoBackendError extends Error {
  constructor(
    message: string,
    /** Every reason quoted is a timeout (a hung backend, or none came back in time). */
    readonly timeout: boolean,
    /** When a retry could find out more: the next check of a backend that was down (0: nothing to wait for). */
    readonly retryInMs: number,
  ) {
    super(message);
  }
}

interface Waiter {
  resolve: (b: Backend) => void;
  reject: (e: unknown) => void;
  avoid: Backend | undefined;
  /** When it started waiting. */
  since: number;
  done: boolean;
}

/**
 * Hands out backend slots: the least-loaded backend with a free slot and a
 * closed (or half-open) circuit; callers beyond every limit wait in one FIFO
 * queue and get the next slot freed anywhere.
 *
 * When no circuit is closed, a caller waits only where a backend may take it
 * soon: behind a probe in flight (half-open: the probe's success lets the queue
 * through), for a fresh check of a backend that was down (a restarted server
 * answers it), or for a backend that answered 503 (loading, so coming back), up
 * to `maxWaitMs`. Otherwise it fails at once, quoting each backend's latest
 * failure with its age.
 */
export class Pool {
  private queue: Waiter[] = [];
  private head = 0;
  private timer: NodeJS.Timeout | undefined;
  private wakeAt = 0;

  constructor(
    readonly backends: Backend[],
    private readonly maxWaitMs: number,
  ) {}

  get queued(): number {
    return this.queue.length - this.head;
  }

  /** `avoid`: the backend that just failed this call, taken only when nothing else is free. */
  acquire(signal: AbortSignal, avoid?: Backend): Promise<Backend> {
    const now = Date.now();
    if (this.queued === 0) {
      const b = this.pick(now, avoid);
      if (b) {
        b.take();
        return Promise.resolve(b);
      }
    }
    return new Promise((resolve, reject) => {
      const w: Waiter = { resolve, reject, avoid, since: now, done: false };
      const onAbort = () => {
        if (w.done) return;
        w.done = true;
        reject(signal.reason);
      };
      signal.addEventListener("abort", onAbort, { once: true });
      w.resolve = (x) => {
        signal.removeEventListener("abort", onAbort);
        resolve(x);
      };
      w.reject = (e) => {
        signal.removeEventListener("abort", onAbort);
        reject(e);
      };
      this.queue.push(w);
      this.pump();
    });
  }

  /** A backend's limit changed: hand out what it frees. */
  pumpSoon(): void {
    queueMicrotask(() => this.pump());
  }

  release(b: Backend): void {
    b.released();
    this.pump();
  }

  /** Give free slots to waiters in order; fail those no backend will take soon. */
  private pump(): void {
    const now = Date.now();
    while (this.head < this.queue.length) {
      const w = this.queue[this.head] as Waiter;
      if (w.done) {
        this.shift();
        continue;
      }
      const b = this.pick(now, w.avoid);
      if (b) {
        this.shift();
        w.done = true;
        b.take();
        w.resolve(b);
        continue;
      }
      const failure = this.outlook(now, w);
      if (!failure) break;
      this.shift();
      w.done = true;
      w.reject(failure);
    }
    this.arm(now);
  }

  /** Undefined: the waiter at the head should wait. Else why it cannot. */
  private outlook(now: number, w: Waiter): NoBackendError | undefined {
    // Time spent waiting for a backend to come back (not in the queue of a healthy one).
    const waited = now - Math.max(w.since, Math.min(...this.backends.map((b) => b.circuit.openedAt)));
    let wait = false;
    for (const b of this.backends) {
      const c = b.circuit;
      // Busy, or a probe is out: a release will pump.
      if (c.closed() || c.probing) return undefined;
      if (b.checking) wait = true;
      else if (c.wantsCheck(now)) {
        void b.check().then(() => this.pump());
        wait = true;
      } else if (c.last?.kind === "loading" && waited < this.maxWaitMs) wait = true;
    }
    if (wait) return undefined;
    const outOfTime = waited >= this.maxWaitMs;
    const reasons = this.backends.map((b) => {
      const f = b.circuit.last;
      const retry = Math.ceil(b.circuit.retryInMs(now) / 1000);
      const when = f ? ago(now - f.at) : "";
      return `${b.url}: ${f?.detail ?? "failing"} (${when}${retry > 0 ? `; next try in ${retry} s` : ""})`;
    });
    const timeout = outOfTime || this.backends.every((b) => b.circuit.last?.timeout);
    const lead = outOfTime
      ? `no LLM backend came back within ${this.maxWaitMs} ms`
      : "no LLM backend available, circuit open";
    // A backend that was down is checked again after RECHECK_MS: a retry then sees a restart.
    const nextCheck = this.backends
      .filter((b) => b.circuit.last?.kind !== "failing")
      .map((b) => Math.max(0, b.circuit.checkedAt + RECHECK_MS - now));
    const retryInMs = outOfTime || nextCheck.length === 0 ? 0 : Math.min(...nextCheck);
    return new NoBackendError(`${lead}: ${reasons.join("; ")}`, timeout, retryInMs);
  }

  /** While callers wait and no circuit is closed, wake for the next cooldown end, check or wait limit. */
  private arm(now: number): void {
    if (this.queued === 0 || this.backends.some((b) => b.circuit.closed() || b.circuit.probing)) return;
    let at = Number.POSITIVE_INFINITY;
    for (const b of this.backends) {
      const c = b.circuit;
      if (c.opensAt() > now) at = Math.min(at, c.opensAt());
      if (c.last?.kind !== "failing") at = Math.min(at, c.checkedAt + RECHECK_MS);
    }
    const oldest = this.queue[this.head];
    const opened = Math.min(...this.backends.map((b) => b.circuit.openedAt));
    if (oldest) at = Math.min(at, Math.max(oldest.since, opened) + this.maxWaitMs);
    if (!Number.isFinite(at)) return;
    at = Math.max(at, now + 5);
    if (this.timer && this.wakeAt <= at) return;
    if (this.timer) clearTimeout(this.timer);
    this.wakeAt = at;
    this.timer = setTimeout(() => {
      this.timer = undefined;
      this.pump();
    }, at - now);
    this.timer.unref();
  }

  private shift(): void {
    this.head++;
    // Compact now and then so a long queue costs O(1) per dequeue.
    if (this.head > 1024 && this.head * 2 > this.queue.length) {
      this.queue = this.queue.slice(this.head);
      this.head = 0;
    }
  }

  private pick(now: number, avoid: Backend | undefined): Backend | undefined {
    let best: Backend | undefined;
    for (const b of this.backends) {
      if (b === avoid || !b.hasSlot(now)) continue;
      if (!best || b.inFlight / b.limit < best.inFlight / best.limit) best = b;
    }
    return best ?? (avoid?.hasSlot(now) ? avoid : undefined);
  }
}

function ago(ms: number): string {
  return ms < 1_000 ? "just now" : `${(ms / 1000).toFixed(1)} s ago`;
}
