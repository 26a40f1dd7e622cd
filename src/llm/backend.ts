import OpenAI, { APIConnectionError, APIError } from "openai";
import type { ChatCompletionCreateParamsNonStreaming } from "openai/resources/chat/completions";
import { sdkFetch } from "./http-fetch.js";
import { Http1Client, HttpTimeout } from "./http1.js";

/** Consecutive failures that open a backend's circuit. */
const TRIP_AFTER = 5;
const COOLDOWN_MIN_MS = 1_000;
const COOLDOWN_MAX_MS = 30_000;

/**
 * One OpenAI-compatible server: its client, its calls in flight, and a circuit
 * breaker. After TRIP_AFTER failures in a row the circuit opens and the backend
 * gets no calls for a cooldown (doubling up to 30 s while it keeps failing);
 * then one probe call is let through (half-open), and its success closes it.
 */
export class Backend {
  readonly client: OpenAI;
  inFlight = 0;
  /** Set when the server refused `logprobs` once (an old llama.cpp, say): stop asking. */
  noLogprobs = false;
  lastError = "";
  private failures = 0;
  private openUntil = 0;
  private cooldown = COOLDOWN_MIN_MS;
  private probing = false;
  private readonly http: Http1Client;
  private readonly completions: string;
  private readonly headers: Record<string, string>;

  constructor(
    readonly url: string,
    readonly limit: number,
    apiKey: string,
    private readonly timeoutMs: number,
  ) {
    if (/[\r\n]/.test(apiKey)) throw new Error("the LLM API key holds a line break");
    const base = new URL(url.endsWith("/") ? url : `${url}/`);
    // A couple of sockets beyond the call limit for the /v1/models readiness polls.
    this.http = new Http1Client(base, limit + 2);
    this.completions = new URL("chat/completions", base).pathname;
    this.headers = {
      "content-type": "application/json",
      accept: "application/json",
      authorization: `Bearer ${apiKey || "EMPTY"}`,
    };
    this.client = new OpenAI({
      fetch: sdkFetch(this.http),
      baseURL: url,
      // vLLM ignores the key unless started with --api-key; the SDK insists on one.
      apiKey: apiKey || "EMPTY",
      organization: null,
      project: null,
      // Retries, timeouts and failover are ours; the SDK's timeout is only a backstop.
      maxRetries: 0,
      timeout: timeoutMs + 1_000,
    });
  }

  /**
   * POST /chat/completions within the call timeout. The request and reply are
   * the SDK's types and its errors (APIError by status, APIConnectionError), but
   * the call goes over our lean HTTP/1.1 client (see http1.ts): the SDK's
   * per-call machinery (headers, logging, Response objects) cost ~25% of the
   * server's CPU per LLM call at 1,000 calls/s on 2 cores, which the gRPC
   * transport and rule workers need. Throws HttpTimeout past the timeout.
   */
  async complete(body: ChatCompletionCreateParamsNonStreaming, signal: AbortSignal): Promise<unknown> {
    let reply: Awaited<ReturnType<Http1Client["request"]>>;
    try {
      reply = await this.http.request({
        method: "POST",
        path: this.completions,
        headers: this.headers,
        body: JSON.stringify(body),
        signal,
        timeoutMs: this.timeoutMs,
      });
    } catch (err) {
      if (signal.aborted || err instanceof HttpTimeout) throw err;
      throw new APIConnectionError({ cause: err as Error });
    }
    const text = reply.body.toString("utf8");
    if (reply.status >= 400) {
      let json: object | undefined;
      try {
        json = JSON.parse(text);
      } catch {
        // A plain-text error body becomes the message.
      }
      throw APIError.generate(reply.status, json, json ? undefined : text, new Headers(reply.headers));
    }
    return JSON.parse(text);
  }

  /** Drop the idle keep-alive connections. */
  close(): void {
    this.http.close();
  }

  /** Closed, or half-open with no probe out. */
  available(now: number): boolean {
    return this.failures < TRIP_AFTER || (now >= this.openUntil && !this.probing);
  }

  hasSlot(now: number): boolean {
    return this.inFlight < this.limit && this.available(now);
  }

  healthy(): boolean {
    return this.failures < TRIP_AFTER;
  }

  /** Take a slot; a half-open backend's one call is its probe. */
  take(): void {
    this.inFlight++;
    if (this.failures >= TRIP_AFTER) this.probing = true;
  }

  succeeded(): void {
    this.failures = 0;
    this.cooldown = COOLDOWN_MIN_MS;
    this.probing = false;
  }

  /** Returns true when this failure opened (or re-opened) the circuit. */
  failed(why: string, now: number): boolean {
    this.lastError = why;
    this.failures++;
    const wasProbe = this.probing;
    this.probing = false;
    if (this.failures < TRIP_AFTER) return false;
    if (wasProbe || this.failures === TRIP_AFTER) {
      this.openUntil = now + this.cooldown;
      if (wasProbe) this.cooldown = Math.min(this.cooldown * 2, COOLDOWN_MAX_MS);
      return true;
    }
    return false;
  }

  released(): void {
    this.inFlight--;
  }

  /** A probe that ended without a verdict either way (its caller gave up, or a 429): let another probe go. */
  abandonProbe(): void {
    this.probing = false;
  }

  retryInMs(now: number): number {
    return Math.max(0, this.openUntil - now);
  }
}

/** Every backend's circuit is open: fail now rather than queue behind a dead server. */
export class NoBackendError extends Error {}

interface Waiter {
  resolve: (b: Backend) => void;
  reject: (e: unknown) => void;
  avoid: Backend | undefined;
  done: boolean;
}

/**
 * Hands out backend slots: the least-loaded backend with a free slot and a
 * closed (or probing) circuit; callers beyond every limit wait in one FIFO queue
 * and get the next slot freed anywhere.
 */
export class Pool {
  private queue: Waiter[] = [];
  private head = 0;

  constructor(readonly backends: Backend[]) {}

  get queued(): number {
    return this.queue.length - this.head;
  }

  /** `avoid`: the backend that just failed this call, taken only when nothing else is free. */
  acquire(signal: AbortSignal, avoid?: Backend): Promise<Backend> {
    const now = Date.now();
    const b = this.pick(now, avoid);
    if (b) {
      b.take();
      return Promise.resolve(b);
    }
    if (!this.backends.some((x) => x.available(now))) return Promise.reject(this.noBackend(now));
    return new Promise((resolve, reject) => {
      const w: Waiter = { resolve, reject, avoid, done: false };
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
    });
  }

  release(b: Backend): void {
    b.released();
    this.pump();
  }

  /** Give freed slots to waiters; when every circuit is open, fail the waiters fast. */
  private pump(): void {
    const now = Date.now();
    while (this.head < this.queue.length) {
      const w = this.queue[this.head] as Waiter;
      if (w.done) {
        this.shift();
        continue;
      }
      const b = this.pick(now, w.avoid);
      if (!b) {
        if (!this.backends.some((x) => x.available(now))) {
          this.shift();
          w.done = true;
          w.reject(this.noBackend(now));
          continue;
        }
        return;
      }
      this.shift();
      w.done = true;
      b.take();
      w.resolve(b);
    }
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

  private noBackend(now: number): NoBackendError {
    const why = this.backends
      .map((b) => `${b.url}: ${b.lastError || "failing"} (retry in ${Math.ceil(b.retryInMs(now) / 1000)}s)`)
      .join("; ");
    return new NoBackendError(`no LLM backend available, circuit open: ${why}`);
  }
}
