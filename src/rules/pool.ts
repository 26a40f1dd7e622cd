import { Piscina } from "piscina";
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
 * The rule verifier in a worker_threads pool. Items are queued and handed over in
 * micro-batches, one task per idle thread, so the per-task cost is paid once per
 * batch and a timer started at hand-over bounds each task. A task that overruns
 * its bound has its worker killed (piscina replaces it); its items are then retried
 * one by one, and only the item that overruns alone is "over_budget".
 */
export class RulePool {
  private readonly pool: Piscina<RuleTask, RuleCheck[]>;
  private readonly queue: Pending[] = [];
  private running = 0;
  private closed = false;
  private readonly batchMax: number;

  constructor(private readonly options: RulePoolOptions) {
    this.batchMax = options.batchMax ?? 64;
    this.pool = new Piscina({
      filename: options.filename ?? new URL("./worker.js", import.meta.url).href,
      minThreads: options.threads,
      maxThreads: options.threads,
      idleTimeout: Number.POSITIVE_INFINITY,
    });
  }

  get threads(): number {
    return this.options.threads;
  }

  check(gold: string, response: string): Promise<RuleCheck> {
    if (this.closed) return Promise.reject(new Error("rule pool is closed"));
    return new Promise((resolve) => {
      this.queue.push({ gold, response, resolve });
      this.pump();
    });
  }

  /**
   * Load the verifier in every thread before the first real item, so no item's
   * budget pays for module loading.
   */
  async warm(): Promise<void> {
    // Fractions, expressions, sets and irrationals: the paths whose libraries load on first use.
    const items = [
      { gold: "\\frac{1}{2}", response: "\\boxed{0.5}" },
      { gold: "x^2+2x+1", response: "\\boxed{(x+1)^2}" },
      { gold: "\\{1, 2\\}", response: "\\boxed{(1, 2)}" },
      { gold: "\\sqrt{2}\\pi", response: "\\boxed{4.44}" },
    ];
    const task: RuleTask = { items, budgetMs: 60_000, relTol: this.options.relTol };
    await Promise.all(Array.from({ length: this.options.threads }, () => this.pool.run(task)));
  }

  async close(): Promise<void> {
    this.closed = true;
    await this.pool.destroy();
  }

  private pump(): void {
    while (this.running < this.options.threads && this.queue.length > 0) {
      // A retried item always travels alone, so its overrun is its own.
      const batch = this.queue[0]?.solo ? this.queue.splice(0, 1) : this.takeBatch();
      this.running++;
      this.runBatch(batch).finally(() => {
        this.running--;
        this.pump();
      });
    }
  }

  private takeBatch(): Pending[] {
    let n = 0;
    while (n < this.queue.length && n < this.batchMax && !this.queue[n]?.solo) n++;
    return this.queue.splice(0, n);
  }

  private async runBatch(batch: Pending[]): Promise<void> {
    const { budgetMs, relTol } = this.options;
    const abort = new AbortController();
    const timer = setTimeout(() => abort.abort(), budgetMs * batch.length + GRACE_MS);
    try {
      const task: RuleTask = {
        items: batch.map(({ gold, response }) => ({ gold, response })),
        budgetMs,
        relTol,
      };
      const results = await this.pool.run(task, { signal: abort.signal });
      for (const [i, item] of batch.entries()) item.resolve(results[i] as RuleCheck);
    } catch (err) {
      if (this.closed) {
        for (const item of batch) item.resolve(failed(`rule pool closed: ${(err as Error).message}`));
      } else if (batch.length === 1 && batch[0]?.solo) {
        batch[0].resolve(
          abort.signal.aborted
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
    } finally {
      clearTimeout(timer);
    }
  }
}

function failed(detail: string): RuleCheck {
  return { outcome: "unparseable", extracted: "", detail, ms: 0 };
}
