import { Overrun, RuleThread, WorkerFault } from "./thread.js";
import type { RuleCheck, RuleTask } from "./worker.js";

export type { RuleCheck } from "./worker.js";

export interface RulePoolOptions {
  threads: number;
  budgetMs: number;
  relTol: number;
  /** Most items handed to a worker in one task. */
  batchMax?: number;
  /** Threads started on top of `threads` while items are slow (default: `threads`). */
  extraThreads?: number;
  /** The worker module (default: the rule verifier's); tests swap in workers that misbehave. */
  filename?: string;
}

interface Pending {
  gold: string;
  response: string;
  question?: string;
  resolve: (r: RuleCheck) => void;
}

/**
 * Slack on top of the per-item budget before an item is presumed stuck (the
 * verifier checks its budget cooperatively; a regex or a library call cannot)
 * and its worker is killed: one item costs at most budget + this.
 */
export const GRACE_MS = 250;
/** An extra thread idle this long is stopped. */
const EXTRA_IDLE_MS = 30_000;

/**
 * The rule verifier in a pool of worker threads. Items are queued and handed over
 * in micro-batches, one task per idle thread, so the per-task cost is paid once
 * per batch. A watchdog bounds each item, not each batch: an item that has run
 * for SLOW_MS (50 ms) is slow, and the items of its batch not yet started go back
 * to the queue for other threads; past its budget + GRACE_MS its worker is killed
 * and replaced, the item is "over_budget", and the rest of its batch is run
 * again. While every thread is busy and one is slow, extra threads start (up to
 * `extraThreads`), so other items do not wait behind a slow one; they stop once
 * idle.
 *
 * Its own small pool rather than a library: one message each way per batch, and
 * the watchdog reads each worker's progress from shared memory, with no message
 * per item (measured in bench/RESULTS.md against piscina).
 */
export class RulePool {
  private readonly workers: RuleThread[];
  private readonly extras: { thread: RuleThread; idleTimer?: NodeJS.Timeout }[] = [];
  private readonly queue: Pending[] = [];
  private closed = false;
  private dead: Error | undefined;
  private readonly batchMax: number;
  private readonly extraMax: number;
  private readonly filename: string;
  private readonly started: Promise<void>;

  constructor(private readonly options: RulePoolOptions) {
    this.batchMax = options.batchMax ?? 64;
    this.extraMax = options.extraThreads ?? options.threads;
    this.filename = options.filename ?? new URL("./worker.js", import.meta.url).href;
    let onStarted: () => void = () => {};
    let onFailed: (e: Error) => void = () => {};
    this.started = new Promise<void>((resolve, reject) => {
      onStarted = resolve;
      onFailed = reject;
    });
    // Not awaited by everyone: a start failure is also reported through each item.
    this.started.catch(() => {});
    const warmed = new Set<RuleThread>();
    this.workers = Array.from({ length: options.threads }, () =>
      this.thread((t) => {
        warmed.add(t);
        if (this.workers.every((w) => warmed.has(w))) onStarted();
      }, onFailed),
    );
  }

  get threads(): number {
    return this.options.threads;
  }

  /** Threads running now, extras included (for tests and metrics). */
  get liveThreads(): number {
    return this.workers.length + this.extras.length;
  }

  check(gold: string, response: string, question?: string): Promise<RuleCheck> {
    if (this.closed) return Promise.reject(new Error("rule pool is closed"));
    if (this.dead) return Promise.resolve(failed(this.dead.message));
    return new Promise((resolve) => {
      this.queue.push(question ? { gold, response, question, resolve } : { gold, response, resolve });
      this.pump();
    });
  }

  /**
   * Resolves once every thread has started and warmed up (each thread loads the
   * verifier and runs a few items at every start, so no item's budget pays for
   * module loading). Rejects when a worker cannot start.
   */
  async warm(): Promise<void> {
    await this.started;
  }

  async close(): Promise<void> {
    this.closed = true;
    for (const e of this.extras) clearTimeout(e.idleTimer);
    await Promise.all([...this.workers, ...this.extras.map((e) => e.thread)].map((t) => t.close()));
    for (const item of this.queue.splice(0)) item.resolve(failed("rule pool closed"));
  }

  /** A thread that warms up each time it (re)starts, then takes work; `onWarm` after its first warm-up. */
  private thread(onWarm: (t: RuleThread) => void, onFailed: (e: Error) => void): RuleThread {
    let first = true;
    const t: RuleThread = new RuleThread(
      this.filename,
      () => {
        warmUp(t, this.options.relTol).then(
          () => {
            if (first) onWarm(t);
            first = false;
            this.pump();
          },
          () => this.pump(),
        );
      },
      (err) => {
        this.dead = new Error(`rule worker failed to start: ${err.message}`);
        onFailed(this.dead);
        for (const item of this.queue.splice(0)) item.resolve(failed(this.dead.message));
      },
    );
    return t;
  }

  private pump(): void {
    while (this.queue.length > 0 && !this.closed) {
      const thread = this.idleThread();
      if (!thread) {
        this.maybeGrow();
        return;
      }
      this.runBatch(thread, this.queue.splice(0, this.batchMax));
    }
  }

  /** Regular threads first; an extra only while some regular thread is on a slow item. */
  private idleThread(): RuleThread | undefined {
    const free = (t: RuleThread) => t.ready && !t.busy;
    const regular = this.workers.find(free);
    if (regular) return regular;
    if (!this.workers.some((t) => t.slow)) return undefined;
    const extra = this.extras.find((e) => free(e.thread));
    if (extra) clearTimeout(extra.idleTimer);
    return extra?.thread;
  }

  /** Every thread is busy: start an extra one if one of them is stuck on a slow item. */
  private maybeGrow(): void {
    const all = [...this.workers, ...this.extras.map((e) => e.thread)];
    if (this.extras.length >= this.extraMax || !all.some((t) => t.slow)) return;
    if (this.extras.some((e) => !e.thread.ready)) return; // one is starting already
    this.extras.push({
      thread: this.thread(
        () => {},
        () => {},
      ),
    });
  }

  private retireLater(thread: RuleThread): void {
    const extra = this.extras.find((e) => e.thread === thread);
    if (!extra) return;
    clearTimeout(extra.idleTimer);
    extra.idleTimer = setTimeout(() => {
      if (thread.busy) return;
      this.extras.splice(this.extras.indexOf(extra), 1);
      void thread.close();
    }, EXTRA_IDLE_MS);
    extra.idleTimer.unref();
  }

  private runBatch(thread: RuleThread, batch: Pending[]): void {
    const { budgetMs, relTol } = this.options;
    const task: RuleTask = {
      items: batch.map(({ gold, response }) => ({ gold, response })),
      budgetMs,
      relTol,
    };
    let taken = batch.length;
    const onSlow = () => {
      // The items not started yet go to other threads now.
      taken = Math.min(taken, thread.reclaim());
      if (taken < batch.length) this.queue.unshift(...batch.slice(taken));
      this.pump();
    };
    thread
      .run(task, { itemBoundMs: budgetMs + GRACE_MS, onSlow })
      .then(
        (results) => {
          for (const [i, item] of batch.slice(0, taken).entries()) {
            item.resolve(results[i] ?? failed("rule worker returned too few results"));
          }
        },
        (err: Error) => {
          const index = err instanceof Overrun || err instanceof WorkerFault ? err.index : 0;
          const done = err instanceof WorkerFault ? err.results : [];
          const culprit = batch[index];
          for (const [i, r] of done.entries()) batch[i]?.resolve(r);
          if (this.closed) {
            for (const item of batch.slice(done.length, taken)) item.resolve(failed(`rule pool closed`));
            return;
          }
          culprit?.resolve(
            err instanceof Overrun
              ? {
                  outcome: "over_budget",
                  extracted: "",
                  detail: `over the ${budgetMs} ms budget`,
                  ms: budgetMs,
                }
              : failed(`rule worker failed: ${err.message}`),
          );
          // Whatever else it had taken is run again, ahead of the queue: nothing is lost with it.
          const again = [...batch.slice(done.length, index), ...batch.slice(index + 1, taken)];
          this.queue.unshift(...again);
        },
      )
      .finally(() => {
        this.retireLater(thread);
        this.pump();
      });
  }
}

/** Fractions, expressions, sets and irrationals: the paths whose libraries load on first use. */
function warmUp(thread: RuleThread, relTol: number): Promise<unknown> {
  const items = [
    { gold: "\\frac{1}{2}", response: "\\boxed{0.5}" },
    { gold: "x^2+2x+1", response: "\\boxed{(x+1)^2}" },
    { gold: "\\{1, 2\\}", response: "\\boxed{(1, 2)}" },
    { gold: "\\sqrt{2}\\pi", response: "\\boxed{4.44}" },
  ];
  return thread.run({ items, budgetMs: 60_000, relTol }, { itemBoundMs: 120_000, onSlow: () => {} });
}

function failed(detail: string): RuleCheck {
  return { outcome: "unparseable", extracted: "", detail, ms: 0 };
}
