import OpenAI, { APIConnectionError, APIError } from "openai";
import type { ChatCompletionCreateParamsNonStreaming } from "openai/resources/chat/completions";
import { Circuit } from "./circuit.js";
import { describeFailure } from "./failure.js";
import { sdkFetch } from "./http-fetch.js";
import { Http1Client, HttpTimeout } from "./http1.js";

/** The longest a check of an open backend's /models may take. */
const CHECK_TIMEOUT_MS = 2_000;

/**
 * One OpenAI-compatible server: its HTTP client, its calls in flight, and its
 * circuit breaker (circuit.ts).
 */
export class Backend {
  readonly client: OpenAI;
  readonly circuit = new Circuit();
  inFlight = 0;
  /** Set when the server refused `logprobs` once (an old llama.cpp, say): stop asking. */
  noLogprobs = false;
  /** When a call there last got its answer, and when a stuck connection was last warned of (judge.ts). */
  answeredAt = 0;
  stuckWarnedAt = Number.NEGATIVE_INFINITY;
  /** A check of /models in flight (see check()). */
  checking: Promise<void> | undefined;
  private readonly http: Http1Client;
  private readonly completions: string;
  private readonly models: string;
  private readonly propsPath: string;
  private readonly headers: Record<string, string>;

  constructor(
    readonly url: string,
    /** Calls in flight at most: --llm-concurrency, or fewer where the server has fewer slots (llama.cpp). */
    public limit: number,
    apiKey: string,
    private readonly timeoutMs: number,
  ) {
    if (/[\r\n]/.test(apiKey)) throw new Error("the LLM API key holds a line break");
    const base = new URL(url.endsWith("/") ? url : `${url}/`);
    // A couple of sockets beyond the call limit for the /v1/models readiness polls and checks.
    this.http = new Http1Client(base, limit + 2);
    this.completions = new URL("chat/completions", base).pathname;
    this.models = new URL("models", base).pathname;
    // llama.cpp serves /props beside /v1, not under it.
    this.propsPath = new URL("../props", base).pathname;
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
    return this.send("POST", this.completions, JSON.stringify(body), signal, this.timeoutMs);
  }

  /**
   * GET /models once, to learn whether an open backend answers again; the
   * answer goes to its circuit. Concurrent callers share one check.
   */
  check(): Promise<void> {
    this.checking ??= this.send(
      "GET",
      this.models,
      undefined,
      undefined,
      Math.min(this.timeoutMs, CHECK_TIMEOUT_MS),
    )
      .then(
        () => this.circuit.checked(undefined, Date.now()),
        (err) => {
          const f = describeFailure(err, this.url, this.timeoutMs);
          this.circuit.checked(
            {
              detail: f.detail,
              timeout: f.timeout,
              kind: f.kind === "loading" ? "loading" : "down",
              at: Date.now(),
            },
            Date.now(),
          );
        },
      )
      .finally(() => {
        this.checking = undefined;
      });
    return this.checking;
  }

  /** llama.cpp's GET /props (its slot count, among others). */
  props(timeoutMs: number): Promise<unknown> {
    return this.send("GET", this.propsPath, undefined, undefined, timeoutMs);
  }

  /** Drop the idle keep-alive connections. */
  close(): void {
    this.http.close();
  }

  hasSlot(now: number): boolean {
    return this.inFlight < this.limit && this.circuit.available(now);
  }

  /** Take a slot; a half-open backend's one call is its probe. */
  take(): void {
    this.inFlight++;
    this.circuit.take();
  }

  released(): void {
    this.inFlight--;
  }

  private async send(
    method: string,
    path: string,
    body: string | undefined,
    signal: AbortSignal | undefined,
    timeoutMs: number,
  ): Promise<unknown> {
    let reply: Awaited<ReturnType<Http1Client["request"]>>;
    try {
      reply = await this.http.request({ method, path, headers: this.headers, body, signal, timeoutMs });
    } catch (err) {
      if (signal?.aborted || err instanceof HttpTimeout) throw err;
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
}
