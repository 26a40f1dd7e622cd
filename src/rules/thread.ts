import { Worker } from "node:worker_threads";
import type { RuleCheck, RuleTask } from "./worker.js";

/**
 * The worker's side, as source: it loads the item module (the rule verifier, or
 * a test's stand-in) and works through each task's items, claiming them one at a
 * time from a counter shared with the pool, so the pool can take back the items
 * not yet started (when one is slow) without a message. Before each item it
 * writes the item's index and start time where the pool's watchdog reads them.
 * Kept as an eval'd script so it runs the same from `dist/` and from the sources.
 */
const BOOT = `
const { parentPort, workerData } = require("node:worker_threads");
const next = new Int32Array(workerData.progress, 0, 2);
const started = new Float64Array(workerData.progress, 8, 1);
import(workerData.filename).then(({ default: check }) => {
  parentPort.on("message", (task) => {
    const results = [];
    let reply;
    try {
      for (;;) {
        const i = Atomics.add(next, 0, 1);
        if (i >= task.items.length) break;
        started[0] = Date.now();
        Atomics.store(next, 1, i);
        results.push(check(task.items[i], task));
      }
      reply = { results };
    } catch (err) {
      reply = { error: String((err && err.message) || err), results };
    }
    parentPort.postMessage(reply);
  });
  parentPort.postMessage({ ready: true });
});
`;

interface Reply {
  ready?: true;
  results?: RuleCheck[];
  error?: string;
}

/** Past this, the item a thread is on is slow: its batch's other items go to other threads. */
export const SLOW_MS = 50;
/** How often the watchdog looks at a thread while one item runs long. */
const TICK_MS = 25;
/** No item index reaches this: exchanging it into the counter stops the worker claiming more. */
const STOP = 1 << 30;

/** The item `index` ran past its bound: the thread was killed and replaced. */
export class Overrun extends Error {
  constructor(
    readonly index: number,
    boundMs: number,
  ) {
    super(`item ran past ${boundMs} ms`);
  }
}

/** The worker died (or threw) on item `index`; items before it have `results`. */
export class WorkerFault extends Error {
  constructor(
    message: string,
    readonly index: number,
    readonly results: RuleCheck[],
  ) {
    super(message);
  }
}

export interface RunOptions {
  /** An item running longer than this is stopped: its worker is killed and replaced. */
  itemBoundMs: number;
  /** Called once when the current item has run for SLOW_MS. */
  onSlow: () => void;
}

/**
 * One worker thread running one task at a time. `run` resolves to the results of
 * the items the worker took, in order; the items after them were taken back with
 * `reclaim`. An item that runs past its bound, or a worker that dies, costs that
 * item only: the worker is replaced and `run` rejects (Overrun, WorkerFault)
 * naming the item.
 */
export class RuleThread {
  ready = false;
  busy = false;
  private worker!: Worker;
  // Each worker gets its own: one being terminated may still touch its counters.
  private counters!: Int32Array;
  private started!: Float64Array;
  private job:
    | {
        resolve: (r: RuleCheck[]) => void;
        reject: (e: Error) => void;
        timer: NodeJS.Timeout;
        slow: boolean;
      }
    | undefined;
  private closed = false;

  /** `onReady`: the thread can take a task (first start, or after a replacement). `onDead`: it failed to start. */
  constructor(
    private readonly filename: string,
    private readonly onReady: () => void,
    private readonly onDead: (err: Error) => void,
  ) {
    this.spawn();
  }

  run(task: RuleTask, options: RunOptions): Promise<RuleCheck[]> {
    if (this.busy || !this.ready) return Promise.reject(new Error("rule thread is not free"));
    this.busy = true;
    Atomics.store(this.counters, 0, 0);
    Atomics.store(this.counters, 1, -1);
    return new Promise((resolve, reject) => {
      const watch = () => {
        const job = this.job;
        if (!job) return;
        const index = Atomics.load(this.counters, 1);
        const ranMs = index < 0 ? 0 : Date.now() - (this.started[0] as number);
        if (ranMs > options.itemBoundMs) {
          this.end()?.reject(new Overrun(index, options.itemBoundMs));
          this.replace();
          return;
        }
        if (ranMs >= SLOW_MS && !job.slow) {
          job.slow = true;
          options.onSlow();
        }
        job.timer = setTimeout(watch, Math.min(TICK_MS, Math.max(1, options.itemBoundMs - ranMs)));
      };
      this.job = { resolve, reject, timer: setTimeout(watch, SLOW_MS), slow: false };
      this.worker.ref();
      this.worker.postMessage(task);
    });
  }

  /** Stop the worker claiming more items of its task; returns how many it had claimed. */
  reclaim(): number {
    return Atomics.exchange(this.counters, 0, STOP);
  }

  /** Whether the item being worked on has run for SLOW_MS or more. */
  get slow(): boolean {
    return this.job?.slow ?? false;
  }

  async close(): Promise<void> {
    this.closed = true;
    this.end()?.reject(new Error("rule pool closed"));
    await this.worker.terminate();
  }

  private spawn(): void {
    this.counters = new Int32Array(new SharedArrayBuffer(16), 0, 2);
    this.started = new Float64Array(this.counters.buffer, 8, 1);
    const counters = this.counters;
    const w = new Worker(BOOT, {
      eval: true,
      workerData: { filename: this.filename, progress: this.counters.buffer },
    });
    this.worker = w;
    this.ready = false;
    let started = false;
    let failure: Error | undefined;
    w.on("message", (m: Reply) => {
      // A worker already replaced (its item overran) may still deliver a late reply: not this job's.
      if (this.worker !== w) return;
      if (m.ready) {
        started = true;
        this.ready = true;
        w.unref();
        this.onReady();
        return;
      }
      const job = this.end();
      const results = m.results ?? [];
      if (m.error !== undefined) job?.reject(new WorkerFault(m.error, results.length, results));
      else job?.resolve(results);
    });
    w.on("error", (err) => {
      failure = err;
    });
    w.on("exit", (code) => {
      if (this.worker !== w || this.closed) return;
      const why = failure ?? new Error(`rule worker exited with code ${code}`);
      this.end()?.reject(new WorkerFault(why.message, Math.max(0, Atomics.load(counters, 1)), []));
      // A worker that never started (a module that does not load) would only fail again.
      if (started) this.replace();
      else this.onDead(why);
    });
  }

  /** Take the current job off the thread, which is then free. */
  private end() {
    const job = this.job;
    this.job = undefined;
    this.busy = false;
    if (job) clearTimeout(job.timer);
    if (!this.closed) this.worker.unref();
    return job;
  }

  private replace(): void {
    const old = this.worker;
    this.spawn();
    void old.terminate();
  }
}
