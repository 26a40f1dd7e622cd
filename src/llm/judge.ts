import type { ChatCompletionCreateParamsNonStreaming, ChatCompletionMessageParam } from "openai/resources";
import { Backend } from "./backend.js";
import { LruCache } from "./cache.js";
import { describeFailure, oneLine } from "./failure.js";
import { NoBackendError, Pool } from "./pool.js";
import { type ModelProfile, pickProfile, renderPrompt } from "./registry.js";
import type { BackendStatus, Judge, JudgeInput, JudgeOutcome, JudgeResult } from "./types.js";
import { pTrueFrom, readVerdict, sampledIsTop, type TokenLogprob } from "./verdict.js";

export type Log = (level: "info" | "warn" | "error", msg: string) => void;

export interface JudgeOptions {
  urls: string[];
  /** Served model name; "" reads it from /v1/models. */
  model: string;
  /** Registry entry to use; "" picks by the served model's name. */
  profile: string;
  registry: Map<string, ModelProfile>;
  apiKey: string;
  concurrency: number;
  timeoutMs: number;
  retries: number;
  readyTimeoutMs: number;
  cacheEntries: number;
  cacheBytes: number;
  /** Base of the exponential backoff between retries (jittered). */
  backoffMs?: number;
  /** How often readiness polls /v1/models. */
  pollMs?: number;
}

/** Counters for metrics; they only grow. */
export interface JudgeStats {
  /** judge() calls. */
  requests: number;
  /** Answered from the verdict cache. */
  cacheHits: number;
  /** Joined an identical call already in flight. */
  shared: number;
  /** HTTP calls made (each retry counts). */
  calls: number;
  retries: number;
  /** Outcomes handed to callers, by kind. */
  outcomes: Record<JudgeOutcome, number>;
  circuitOpened: number;
}

type Verdict = Omit<JudgeResult, "cached" | "ms">;

interface Flight {
  promise: Promise<Verdict>;
  controller: AbortController;
  waiters: number;
}

const MAX_BACKOFF_MS = 5_000;

/**
 * The LLM verifier: renders the model's prompt, answers from the cache or an
 * identical call in flight when it can, else calls the least-loaded backend,
 * retrying with backoff (on another backend when there is one).
 */
export class LlmJudge implements Judge {
  private readonly backendList: Backend[];
  private readonly pool: Pool;
  private readonly cache: LruCache<Verdict>;
  private readonly inflight = new Map<string, Flight>();
  private served = "";
  private chosen: ModelProfile | undefined;
  private readyPromise: Promise<void> | undefined;
  /** Set while the start-up wait for a backend runs: calls that arrive meanwhile wait for it. */
  private starting: Promise<void> | undefined;
  /** Why the served model cannot be judged with any profile (a thinking model the registry lacks). */
  private modelProblem = "";
  /** The latest failure of /models per backend, for the detail of "model unknown". */
  private readonly modelsFailures = new Map<string, string>();
  private discovering: Promise<void> | undefined;
  private closed = false;
  private readonly closing = new AbortController();
  readonly counters: JudgeStats = {
    requests: 0,
    cacheHits: 0,
    shared: 0,
    calls: 0,
    retries: 0,
    outcomes: { true: 0, false: 0, unparseable: 0, error: 0, timeout: 0 },
    circuitOpened: 0,
  };

  constructor(
    private readonly opts: JudgeOptions,
    private readonly log: Log = () => {},
  ) {
    if (opts.urls.length === 0) throw new Error("the LLM verifier needs at least one --llm-url");
    this.backendList = opts.urls.map(
      (u) => new Backend(u.replace(/\/+$/, ""), opts.concurrency, opts.apiKey, opts.timeoutMs),
    );
    this.pool = new Pool(this.backendList, opts.timeoutMs);
    this.cache = new LruCache(opts.cacheEntries, opts.cacheBytes);
    // An explicit --llm-profile is checked now, so a typo fails at start, not at the first call.
    if (opts.profile) this.chosen = pickProfile(opts.registry, opts.profile, []).profile;
    if (opts.model) this.useModel(opts.model, []);
  }

  model(): string {
    return this.served;
  }

  /** The registry entry whose prompt and decoding are used ("" until the served model is known). */
  profile(): string {
    return this.chosen?.name ?? "";
  }

  backends(): BackendStatus[] {
    return this.backendList.map((b) => ({ url: b.url, healthy: b.circuit.closed(), inFlight: b.inFlight }));
  }

  stats(): JudgeStats & { inFlight: number; queued: number; cacheEntries: number; cacheBytes: number } {
    return {
      ...this.counters,
      outcomes: { ...this.counters.outcomes },
      inFlight: this.backendList.reduce((n, b) => n + b.inFlight, 0),
      queued: this.pool.queued,
      cacheEntries: this.cache.size,
      cacheBytes: this.cache.bytes,
    };
  }

  ready(): Promise<void> {
    if (!this.readyPromise) {
      this.readyPromise = this.waitReady();
      this.starting = this.readyPromise.finally(() => {
        this.starting = undefined;
      });
    }
    return this.readyPromise;
  }

  async close(): Promise<void> {
    this.closed = true;
    this.closing.abort(new Error("LLM verifier closed"));
    for (const f of this.inflight.values()) f.controller.abort(new Error("LLM verifier closed"));
    this.inflight.clear();
    for (const b of this.backendList) b.close();
  }

  async judge(input: JudgeInput, signal?: AbortSignal): Promise<JudgeResult> {
    const t0 = performance.now();
    this.counters.requests++;
    const done = (v: Verdict, cached: boolean): JudgeResult => {
      this.counters.outcomes[v.outcome]++;
      return { ...v, cached, ms: performance.now() - t0 };
    };
    if (signal?.aborted) return done(abortVerdict(signal.reason), false);
    if (this.closed) return done({ outcome: "error", detail: "LLM verifier closed" }, false);
    if (this.starting && !this.served) {
      // Started before the backend was ready: wait for it (the server reports NOT_SERVING meanwhile).
      if (!(await settles(this.starting, signal))) return done(abortVerdict(signal?.reason), false);
    }
    if (!this.modelProblem && (!this.chosen || !this.served)) await this.discover();
    if (this.modelProblem) return done({ outcome: "error", detail: this.modelProblem }, false);
    if (!this.chosen || !this.served) {
      return done({ outcome: "error", detail: `LLM model unknown: ${this.modelsFailure()}` }, false);
    }
    const profile = this.chosen;
    const prompt = renderPrompt(profile, input);
    const key = `${this.served}\u0000${prompt}`;
    const hit = this.cache.get(key);
    if (hit) {
      this.counters.cacheHits++;
      return done(hit, true);
    }
    let flight = this.inflight.get(key);
    if (flight) this.counters.shared++;
    else flight = this.startFlight(key, prompt, profile);
    const f = flight;
    f.waiters++;
    if (!signal) return f.promise.then((v) => done(v, false));
    return new Promise<JudgeResult>((resolve) => {
      let settled = false;
      const onAbort = () => {
        if (settled) return;
        settled = true;
        // Only the last waiter to leave cancels the HTTP call; the others still want it.
        if (--f.waiters === 0) {
          f.controller.abort(signal.reason);
          if (this.inflight.get(key) === f) this.inflight.delete(key);
        }
        resolve(done(abortVerdict(signal.reason), false));
      };
      signal.addEventListener("abort", onAbort, { once: true });
      f.promise.then((v) => {
        if (settled) return;
        settled = true;
        signal.removeEventListener("abort", onAbort);
        resolve(done(v, false));
      });
    });
  }

  private startFlight(key: string, prompt: string, profile: ModelProfile): Flight {
    const controller = new AbortController();
    const flight = { controller, waiters: 0 } as Flight;
    flight.promise = this.call(prompt, profile, controller.signal).then((v) => {
      if (this.inflight.get(key) === flight) this.inflight.delete(key);
      // Failures are not cached (the next try may work), nor are unparseable replies (it may have been cut short).
      if (v.outcome === "true" || v.outcome === "false") this.cache.set(key, v);
      return v;
    });
    this.inflight.set(key, flight);
    return flight;
  }

  /** One verdict: up to 1 + retries attempts, each on the least-loaded backend. Never rejects. */
  private async call(prompt: string, profile: ModelProfile, signal: AbortSignal): Promise<Verdict> {
    let last: Verdict = { outcome: "error", detail: "not attempted" };
    let previous: Backend | undefined;
    let waitMs = 0;
    let resend = false;
    for (let attempt = 0; attempt <= this.opts.retries; attempt++) {
      if (attempt > 0 && !resend) {
        this.counters.retries++;
        const base = (this.opts.backoffMs ?? 100) * 2 ** (attempt - 1);
        // Equal jitter: at least half the step, so retries of a burst spread out but never hammer at once.
        const delay = Math.min(MAX_BACKOFF_MS, Math.max(waitMs, base / 2 + Math.random() * (base / 2)));
        if (!(await sleep(delay, signal))) return abortVerdict(signal.reason);
      }
      if (signal.aborted) return abortVerdict(signal.reason);
      waitMs = 0;
      resend = false;
      let backend: Backend;
      try {
        backend = await this.pool.acquire(signal, previous);
      } catch (err) {
        if (!(err instanceof NoBackendError)) return abortVerdict(signal.reason);
        // Every backend is out, and none is known to be coming back: this attempt failed; the next may not.
        last = { outcome: err.timeout ? "timeout" : "error", detail: err.message };
        waitMs = err.retryInMs;
        continue;
      }
      const sentAt = Date.now();
      try {
        this.counters.calls++;
        const v = await this.attempt(backend, prompt, profile, signal);
        backend.circuit.succeeded();
        backend.answeredAt = Date.now();
        return v;
      } catch (err) {
        if (signal.aborted) {
          backend.circuit.abandonProbe();
          return abortVerdict(signal.reason);
        }
        const f = describeFailure(err, backend.url, this.opts.timeoutMs);
        last = { outcome: f.timeout ? "timeout" : "error", detail: f.detail };
        if (f.clientError) {
          // The request itself is at fault (prompt over the context length, say): retrying cannot help.
          backend.circuit.succeeded();
          if (f.logprobsRefused && !backend.noLogprobs) {
            backend.noLogprobs = true;
            this.log("warn", `LLM backend ${backend.url} refused logprobs; asking without them (no P(True))`);
            // Sent again at once, and not counted as a retry.
            attempt--;
            resend = true;
            continue;
          }
          return last;
        }
        // A timeout while other calls there were answered: this connection was not read (see fitLlamaCpp),
        // the server is fine. Say so, and retry on a fresh connection without counting it against the server.
        const stuck = f.timeout && backend.answeredAt > sentAt;
        if (stuck) this.warnStuck(backend);
        // 429 is the server shedding load, not failing: back off, but leave its circuit closed.
        if (f.status === 429 || stuck) backend.circuit.abandonProbe();
        else if (
          backend.circuit.failed({ detail: f.detail, timeout: f.timeout, kind: f.kind, at: Date.now() })
        ) {
          this.counters.circuitOpened++;
          this.log("warn", `LLM backend ${backend.url} failing (${f.detail}); circuit open`);
        }
        waitMs = f.retryAfterMs ?? 0;
      } finally {
        this.pool.release(backend);
      }
      previous = backend;
    }
    return last;
  }

  private warnStuck(b: Backend): void {
    const now = Date.now();
    if (now - b.stuckWarnedAt < 60_000) return;
    b.stuckWarnedAt = now;
    this.log(
      "warn",
      `LLM calls to ${b.url} time out while others there are answered: the server is not reading some of our connections (llama.cpp: fewer --threads-http than calls in flight). Lower --llm-concurrency, or start it with --threads-http above it`,
    );
  }

  private async attempt(backend: Backend, prompt: string, profile: ModelProfile, signal: AbortSignal) {
    const messages: ChatCompletionMessageParam[] = profile.system
      ? [
          { role: "system", content: profile.system },
          { role: "user", content: prompt },
        ]
      : [{ role: "user", content: prompt }];
    const body: ChatCompletionCreateParamsNonStreaming = {
      ...(profile.extraBody ?? {}),
      model: this.served,
      messages,
      temperature: profile.temperature,
      top_p: profile.topP,
      // Both spellings: vLLM and SGLang read max_completion_tokens, older llama.cpp only max_tokens.
      max_completion_tokens: profile.maxCompletionTokens,
      max_tokens: profile.maxCompletionTokens,
    };
    if (!backend.noLogprobs) {
      body.logprobs = true;
      body.top_logprobs = 5;
    }
    return parseCompletion(await backend.complete(body, signal), profile, backend.url);
  }

  private useModel(name: string, servedIds: string[]): void {
    this.served = name;
    if (this.chosen) return;
    let picked: ReturnType<typeof pickProfile>;
    try {
      picked = pickProfile(this.opts.registry, "", [name, ...servedIds]);
    } catch (err) {
      this.modelProblem = (err as Error).message;
      this.log("error", `${this.modelProblem}; every LLM verdict is ERROR until then`);
      return;
    }
    this.chosen = picked.profile;
    if (picked.how === "default") {
      this.log(
        "warn",
        `LLM model "${name}" is not in the judge registry; using ${picked.profile.name}'s prompt (set --llm-profile)`,
      );
    }
  }

  private modelsFailure(): string {
    return this.backendList
      .map((b) => `${b.url}/models: ${this.modelsFailures.get(b.url) ?? "no answer"}`)
      .join("; ");
  }

  /**
   * llama.cpp's server binds each connection to one of its HTTP threads for as
   * long as the connection is kept alive, and it has a few more threads than
   * slots (`--threads-http`, default slots + 4). A request on a connection beyond
   * them is not read until another connection sits idle for its 5 s keep-alive
   * timeout, or never while our client keeps the others busy: 5 s stalls and
   * 30 s timeouts at 64 in flight against its defaults (4 slots, 8 threads).
   * More calls in flight than slots only wait in its queue anyway, so keep
   * at most its slot count (from /props) in flight there.
   */
  private async fitLlamaCpp(b: Backend, timeoutMs: number): Promise<void> {
    let slots: unknown;
    try {
      slots = ((await b.props(timeoutMs)) as { total_slots?: unknown } | null)?.total_slots;
    } catch {
      return; // behind a proxy that hides /props, say: the stall warning in call() still tells
    }
    if (typeof slots !== "number" || !Number.isInteger(slots) || slots < 1) return;
    const limit = Math.min(slots, this.opts.concurrency);
    if (limit === b.limit) return;
    b.limit = limit;
    if (limit < this.opts.concurrency) {
      this.log(
        "info",
        `LLM at ${b.url} is llama.cpp with ${slots} slots: at most ${slots} calls in flight there, not ${this.opts.concurrency} (more would wait on connections its HTTP threads do not read; start it with more --parallel slots to raise this)`,
      );
    }
    this.pool.pumpSoon();
  }

  /** GET /models on one backend, remembering why it failed. */
  private async listModels(b: Backend, timeoutMs: number) {
    try {
      const found = await listModels(b, timeoutMs, this.closing.signal);
      this.modelsFailures.delete(b.url);
      if (found.llamaCpp) await this.fitLlamaCpp(b, timeoutMs);
      return found;
    } catch (err) {
      const f = describeFailure(err, b.url, timeoutMs);
      this.modelsFailures.set(b.url, f.detail);
      throw Object.assign(new Error(f.detail), { status: f.status });
    }
  }

  /** Learn the served model name from the first backend that answers /v1/models (shared by concurrent callers). */
  private discover(): Promise<void> {
    this.discovering ??= (async () => {
      const found = await Promise.any(
        this.backendList.map((b) => this.listModels(b, Math.min(this.opts.timeoutMs, 5_000))),
      ).catch(() => undefined);
      if (found && !this.served) this.useModel(found.ids[0] as string, found.roots);
    })().finally(() => {
      this.discovering = undefined;
    });
    return this.discovering;
  }

  private async waitReady(): Promise<void> {
    if (this.opts.readyTimeoutMs <= 0) {
      // No wait asked for: the first verdict request reads the model name instead.
      this.log("info", `not waiting for LLM at ${this.urlList()} (ready timeout 0)`);
      return;
    }
    const started = Date.now();
    const deadline = started + this.opts.readyTimeoutMs;
    const poll = this.opts.pollMs ?? 500;
    const one = async (b: Backend): Promise<void> => {
      this.log("info", `waiting for LLM at ${b.url}`);
      let nextNote = started + 10_000;
      for (;;) {
        try {
          const found = await this.listModels(b, Math.max(1, Math.min(5_000, deadline - Date.now())));
          if (!this.served) this.useModel(found.ids[0] as string, found.roots);
          else if (!found.ids.includes(this.served)) {
            this.log("warn", `LLM at ${b.url} serves ${found.ids.join(", ")}, not "${this.served}"`);
          }
          if (this.chosen)
            this.log("info", `LLM ready: model ${this.served} at ${b.url} (prompt: ${this.chosen.name})`);
          return;
        } catch (err) {
          if (this.closed) throw err;
          const status = (err as { status?: number }).status;
          if (status === 401 || status === 403) {
            // A wrong key does not fix itself: say so now rather than after the whole wait.
            this.log("error", `LLM at ${b.url} refuses our API key: ${(err as Error).message}`);
            throw new Error(`${b.url}: ${(err as Error).message}`);
          }
          const now = Date.now();
          if (now + poll >= deadline) {
            throw new Error(`${b.url}: ${(err as Error).message}`);
          }
          if (now >= nextNote) {
            this.log("info", `still waiting for LLM at ${b.url} (${Math.round((now - started) / 1000)}s)`);
            nextNote += 10_000;
          }
          await sleep(poll, this.closing.signal);
        }
      }
    };
    const waits = this.backendList.map(one);
    let anyReady = false;
    try {
      await Promise.any(waits);
      anyReady = true;
    } catch (err) {
      const why =
        err instanceof AggregateError ? err.errors.map((e) => (e as Error).message).join("; ") : String(err);
      if (!this.closed) {
        this.log(
          "warn",
          `LLM not ready after ${Math.round((Date.now() - started) / 1000)}s (${why}); continuing: until it answers, items get the rule verdict with LLM outcome ERROR`,
        );
      }
    }
    // The other backends keep being polled in the background and log when they come up, or give up.
    for (const w of waits) {
      w.catch((err: Error) => {
        if (anyReady && !this.closed)
          this.log("warn", `LLM not ready at ${err.message}; its circuit breaker decides`);
      });
    }
  }

  private urlList(): string {
    return this.backendList.map((b) => b.url).join(", ");
  }
}

async function listModels(b: Backend, timeoutMs: number, closing: AbortSignal) {
  // A signal of its own per poll: the SDK leaves its listener on the signal it is given.
  const own = new AbortController();
  const onClose = () => own.abort(closing.reason);
  closing.addEventListener("abort", onClose, { once: true });
  const page = await b.client.models
    .list({ timeout: timeoutMs, signal: own.signal })
    .finally(() => closing.removeEventListener("abort", onClose));
  const data = page.data as { id: string; root?: string; owned_by?: string }[];
  if (!data.length || typeof data[0]?.id !== "string") throw new Error("/v1/models lists no model");
  return {
    ids: data.map((m) => m.id),
    roots: data.flatMap((m) => (typeof m.root === "string" ? [m.root] : [])),
    llamaCpp: data[0]?.owned_by === "llamacpp",
  };
}

class BadReply extends Error {}

function parseCompletion(res: unknown, profile: ModelProfile, url: string): Verdict {
  const choice = (res as { choices?: unknown[] } | null)?.choices?.[0] as
    | {
        message?: { content?: unknown; reasoning_content?: unknown; reasoning?: unknown };
        logprobs?: { content?: TokenLogprob[] | null } | null;
      }
    | undefined;
  if (!choice?.message) {
    throw new BadReply(
      `no choices[0].message in ${typeof res === "string" ? oneLine(res).slice(0, 80) : "the JSON"}`,
    );
  }
  const content = typeof choice.message.content === "string" ? choice.message.content : "";
  const reasoning = choice.message.reasoning_content ?? choice.message.reasoning;
  // A server running a reasoning parser hands the thinking over separately: the content is then the verdict alone.
  const split = typeof reasoning === "string" && reasoning.length > 0;
  const read = readVerdict(profile, content, split);
  const v: Verdict = { outcome: read.outcome, backend: url };
  if (read.detail) v.detail = read.detail;
  const tokens = choice.logprobs?.content;
  // P(True) only for a verdict: on an unparseable reply it would be read from whatever came first.
  if (read.outcome !== "unparseable" && Array.isArray(tokens) && tokens.length > 0) {
    const p = pTrueFrom(profile, tokens, split);
    if (p === undefined) return v;
    if (profile.temperature === 0 && !sampledIsTop(profile, tokens, split)) {
      v.detail = `P(True) ${p.toFixed(3)} left out: the ${read.outcome === "true" ? "True" : "False"} token was not the most likely one, so the logprobs predate a constraint (logit_bias, grammar)`;
    } else {
      v.pTrue = p;
    }
  }
  return v;
}

/** AbortSignal.timeout() aborts with a TimeoutError; servers abort with their own "deadline exceeded" errors. */
function abortVerdict(reason: unknown): Verdict {
  const r = reason as { name?: string; message?: string } | undefined;
  if (r?.name === "TimeoutError" || /deadline/i.test(r?.message ?? "")) {
    return { outcome: "timeout", detail: "the request's deadline expired" };
  }
  return { outcome: "error", detail: "cancelled by the caller" };
}

/** Resolves true when `p` settles, false as soon as the signal aborts. */
function settles(p: Promise<unknown>, signal: AbortSignal | undefined): Promise<boolean> {
  if (!signal)
    return p.then(
      () => true,
      () => true,
    );
  if (signal.aborted) return Promise.resolve(false);
  return new Promise((resolve) => {
    const onAbort = () => resolve(false);
    signal.addEventListener("abort", onAbort, { once: true });
    p.finally(() => {
      signal.removeEventListener("abort", onAbort);
      resolve(true);
    }).catch(() => {});
  });
}

/** Resolves true after ms, false as soon as the signal aborts. */
function sleep(ms: number, signal: AbortSignal): Promise<boolean> {
  if (signal.aborted) return Promise.resolve(false);
  return new Promise((resolve) => {
    const onAbort = () => {
      clearTimeout(t);
      resolve(false);
    };
    const t = setTimeout(() => {
      signal.removeEventListener("abort", onAbort);
      resolve(true);
    }, ms);
    signal.addEventListener("abort", onAbort, { once: true });
  });
}
