import { Worker } from "node:worker_threads";
import type { RuleCheck, RuleTask } from "./worker.js";

/**
 * The worker's side, as source: it loads the task module (the rule verifier, or
 * a test's stand-in) and answers each task message with its results. Kept as an
 * eval'd script so it runs the same from `dist/` and from the TypeScript sources.
 */
const BOOT = `
const { parentPort, workerData } = require("node:worker_threads");
import(workerData.filename).then(({ default: run }) => {
  parentPort.on("message", (task) => {
    let reply;
    try {
      reply = { results: run(task) };
    } catch (err) {
      reply = { error: String((err && err.message) || err) };
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

/** The task ran past its bound: the thread was killed and replaced. */
export class Overrun extends Error {}

/**
 * One worker thread running one task at a time. A task that runs past its
 * bound, or a worker that dies, costs that task only: the worker is replaced and
 * the task's promise rejects (Overrun, or the worker's error).
 */
export class RuleThread {
  ready = false;
  busy = false;
  private worker!: Worker;
  private job:
    | { resolve: (r: RuleCheck[]) => void; reject: (e: Error) => void; timer: NodeJS.Timeout }
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

  run(task: RuleTask, boundMs: number): Promise<RuleCheck[]> {
    if (this.busy || !this.ready) return Promise.reject(new Error("rule thread is not free"));
    this.busy = true;
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => {
        this.end()?.reject(new Overrun(`task ran past ${boundMs} ms`));
        this.replace();
      }, boundMs);
      this.job = { resolve, reject, timer };
      this.worker.ref();
      this.worker.postMessage(task);
    });
  }

  async close(): Promise<void> {
    this.closed = true;
    this.end()?.reject(new Error("rule pool closed"));
    await this.worker.terminate();
  }

  private spawn(): void {
    const w = new Worker(BOOT, { eval: true, workerData: { filename: this.filename } });
    this.worker = w;
    this.ready = false;
    let started = false;
    let failure: Error | undefined;
    w.on("message", (m: Reply) => {
      // A worker already replaced (its task overran) may still deliver a late reply: not this job's.
      if (this.worker !== w) return;
      if (m.ready) {
        started = true;
        this.ready = true;
        w.unref();
        this.onReady();
        return;
      }
      const job = this.end();
      if (m.error !== undefined) job?.reject(new Error(m.error));
      else job?.resolve(m.results ?? []);
    });
    w.on("error", (err) => {
      failure = err;
    });
    w.on("exit", (code) => {
      if (this.worker !== w || this.closed) return;
      const why = failure ?? new Error(`rule worker exited with code ${code}`);
      this.end()?.reject(why);
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
