import { Overrun, RuleThread } from "./thread.js";
import type { RuleCheck, RuleTask } from "./worker.js";

export type { RuleCheck } from "./worker.js";

export interface RulePoolOptions {
  threads: number;
  budgetMs: number;
  relTol: number;
  /** Most items handed to a worker in one task. */
  batchMax?: number;
  /** The worker module (default: the rule verifier's); tests swap in workers that misbehave. */
  filename?: string;
}

interface Pending {
  gold: string;
  response: string;
  resolve: (r: RuleCheck) => void;
  /** Set when the item is retried alone after its batch overran. */
  solo?: boolean;
}

// Slack on top of the per-item budget before a worker is presumed stuck and killed.
const GRACE_MS = 1_000;

/**
 * The rule verifier in a pool of worker threads. Items are queued and handed over
 * in micro-batches, one task per idle thread, so the per-task cost is paid once
 * per batch and a timer started at hand-over bounds each task. A task that
 * overruns its bound has its worker killed and replaced; its items are then
 * retried one by one, and only the item that overruns alone is "over_budget".
 *
 * Its own small pool rather than a library: one message each way per batch, no
 * per-task bookkeeping beyond a timer, which matters at one task per item when
 * items trickle in (a stream waiting on the LLM).
 */
export class RulePool {
  private readonly workers: RuleThread[];
  private readonly queue: Pending[] = [];
  private closed = false;
  private dead: Error | undefined;
  private readonly batchMax: number;
  private readonly started: Promise<void>;

  constructor(private readonly options: RulePoolOptions) {
    this.batchMax = options.batchMax ?? 64;
    const filename = options.filename ?? new URL("./worker.js", import.meta.url).href;
    let onStarted: () => void = () => {};
    let onFailed: (e: Error) => void = () => {};
    this.started = new Promise<void>((resolve, reject) => {
      onStarted = resolve;
      onFailed = reject;
    });
    // Not awaited by everyone: a start failure is also reported through each item.
    this.started.catch(() => {});
    this.workers = Array.from(
      { length: options.threads },
      () =>
        new RuleThread(
          filename,
          () => {
            if (this.workers.every((t) => t.ready)) onStarted();
            this.pump();
          },
          (err) => {
            this.dead = new Error(`rule worker failed to start: ${err.message}`);
            onFailed(this.dead);
            for (const item of this.queue.splice(0)) item.resolve(failed(this.dead.message));
          },
        ),
    );
  }

  get threads(): number {
    return this.options.threads;
  }

  check(gold: string, response: string): Promise<RuleCheck> {
    if (this.closed) return Promise.reject(new Error("rule pool is closed"));
    if (this.dead) return Promise.resolve(failed(this.dead.message));
    return new Promise((resolve) => {
      this.queue.push({ gold, response, resolve });
      this.pump();
    });
  }

  /**
   * Start every thread and load the verifier in each before the first real
   * item, so no item's budget pays for module loading. Rejects when a worker
   * cannot start.
   */
  async warm(): Promise<void> {
    await this.started;
    // Fractions, expressions, sets and irrationals: the paths whose libraries load on first use.
    const items = [
      { gold: "\\frac{1}{2}", response: "\\boxed{0.5}" },
      { gold: "x^2+2x+1", response: "\\boxed{(x+1)^2}" },
      { gold: "\\{1, 2\\}", response: "\\boxed{(1, 2)}" },
      { gold: "\\sqrt{2}\\pi", response: "\\boxed{4.44}" },
    ];
    const task: RuleTask = { items, budgetMs: 60_000, relTol: this.options.relTol };
    await Promise.all(this.workers.map((t) => t.run(task, 120_000)));
    this.pump();
  }

  async close(): Promise<void> {
    this.closed = true;
    await Promise.all(this.workers.map((t) => t.close()));
    for (const item of this.queue.splice(0)) item.resolve(failed("rule pool closed"));
  }

  private pump(): void {
    for (const thread of this.workers) {
      if (this.queue.length === 0 || this.closed) return;
      if (!thread.ready || thread.busy) continue;
      // A retried item always travels alone, so its overrun is its own.
      const batch = this.queue[0]?.solo ? this.queue.splice(0, 1) : this.takeBatch();
      this.runBatch(thread, batch).finally(() => this.pump());
    }
  }

  private takeBatch(): Pending[] {
    let n = 0;
    while (n < this.queue.length && n < this.batchMax && !this.queue[n]?.solo) n++;
    return this.queue.splice(0, n);
  }

  private async runBatch(thread: RuleThread, batch: Pending[]): Promise<void> {
    const { budgetMs, relTol } = this.options;
    const task: RuleTask = {
      items: batch.map(({ gold, response }) => ({ gold, response })),
      budgetMs,
      relTol,
    };
    try {
      const results = await thread.run(task, budgetMs * batch.length + GRACE_MS);
      for (const [i, item] of batch.entries()) {
        item.resolve(results[i] ?? failed("rule worker returned too few results"));
      }
    } catch (err) {
      if (this.closed) {
        for (const item of batch) item.resolve(failed(`rule pool closed: ${(err as Error).message}`));
      } else if (batch.length === 1 && batch[0]?.solo) {
        batch[0].resolve(
          err instanceof Overrun
            ? {
                outcome: "over_budget",
                extracted: "",
                detail: `over the ${budgetMs} ms budget`,
                ms: budgetMs,
              }
            : failed(`rule worker failed: ${(err as Error).message}`),
        );
      } else {
        // Retry each item alone, ahead of the queue, so no item is lost with its batch.
        this.queue.unshift(...batch.map((item) => ({ ...item, solo: true })));
      }
    }
  }
}

function failed(detail: string): RuleCheck {
  return { outcome: "unparseable", extracted: "", detail, ms: 0 };
}
