/**
 * A stand-in for a vLLM server (no GPU, no model): an OpenAI-compatible HTTP
 * server that answers `GET /v1/models` and `POST /v1/chat/completions` from a
 * script, so tests can make it slow, fail, hang, drop connections, send broken
 * JSON or odd text, and count every call it gets.
 */
import http from "node:http";
import type { AddressInfo, Socket } from "node:net";

/** One chat completion request as the stand-in saw it. */
export interface FakeCall {
  /** 1-based number of this chat call. */
  n: number;
  body: {
    model?: string;
    messages?: { role: string; content: string }[];
    logprobs?: boolean;
    top_logprobs?: number;
    [k: string]: unknown;
  };
  /** The last message's content. */
  prompt: string;
  /** The TinyV prompt's fields, pulled from its tags ("" when absent). */
  question: string;
  groundTruth: string;
  answer: string;
  /** From the request's last byte to the reply's first: the time the stand-in held it. */
  holdMs?: number;
}

export type FakeReply =
  /** A completion with this text. `pTrue` sets the first verdict token's logprobs (when asked for). */
  | { text: string; pTrue?: number; reasoning?: string; latencyMs?: number }
  /** An HTTP error, e.g. 500 or 429 (with Retry-After seconds). */
  | { status: number; message?: string; retryAfter?: number; latencyMs?: number }
  /** Never answer (until the client gives up or the server stops). */
  | { hang: true }
  /** Drop the connection without a reply. */
  | { close: true; latencyMs?: number }
  /** Send the headers and half the body, then drop the connection. */
  | { cut: true; latencyMs?: number }
  /** A 200 whose body is not JSON. */
  | { malformed: true; latencyMs?: number };

export type Script = (call: FakeCall) => FakeReply | Promise<FakeReply>;

export interface FakeVllmOptions {
  /** Served model name listed by /v1/models. */
  model?: string;
  /** Added before every chat reply (a reply's own latencyMs wins). */
  latencyMs?: number;
  /** Reply text (or reply) by the prompt's model answer; others get "False". */
  fixtures?: Record<string, string | FakeReply>;
  /** Decides every reply; wins over fixtures. */
  script?: Script;
  /** /v1/models answers 503 to this many calls first, like vLLM loading weights. */
  loadingCalls?: number;
  /** Return logprobs when asked (default true); false acts like a server that ignores the flag. */
  logprobs?: boolean;
  /** When set, calls without `authorization: Bearer <apiKey>` get llama.cpp's 401 "Invalid API Key". */
  apiKey?: string;
  /** Keep every FakeCall in `requests` (default true; the bench turns it off). */
  record?: boolean;
  port?: number;
}

const tag = (s: string, name: string) => {
  const m = new RegExp(`<${name}>([\\s\\S]*?)</${name}>`).exec(s);
  return m ? (m[1] as string) : "";
};

export class FakeVllm {
  /** Chat completion requests received. */
  calls = 0;
  /** /v1/models requests received. */
  modelCalls = 0;
  inFlight = 0;
  maxInFlight = 0;
  /** Chat requests whose client went away before the reply was sent. */
  clientAborts = 0;
  readonly requests: FakeCall[] = [];
  script: Script;
  latencyMs: number;
  /** While true, every route answers 503 "Loading model", as llama.cpp's server does while it loads. */
  loading = false;
  url = "";
  private readonly server: http.Server;
  private readonly sockets = new Set<Socket>();

  private constructor(readonly opts: FakeVllmOptions) {
    this.latencyMs = opts.latencyMs ?? 0;
    this.script = opts.script ?? FakeVllm.fromFixtures(opts.fixtures ?? {});
    this.server = http.createServer((req, res) => this.handle(req, res));
    this.server.keepAliveTimeout = 60_000;
    this.server.on("connection", (s) => {
      this.sockets.add(s);
      s.on("close", () => this.sockets.delete(s));
    });
  }

  static async start(opts: FakeVllmOptions = {}): Promise<FakeVllm> {
    const f = new FakeVllm(opts);
    await new Promise<void>((resolve) => f.server.listen(opts.port ?? 0, "127.0.0.1", resolve));
    f.url = `http://127.0.0.1:${(f.server.address() as AddressInfo).port}/v1`;
    return f;
  }

  /** The default script: the fixture for the prompt's model answer, else "False". */
  static fromFixtures(fixtures: Record<string, string | FakeReply>): Script {
    return (call) => {
      const r = fixtures[call.answer] ?? "False";
      return typeof r === "string" ? { text: r } : r;
    };
  }

  get model(): string {
    return this.opts.model ?? "zhangchenxu/TinyV-1.5B";
  }

  /** Stop listening and drop every connection: from now on, connections are refused (a dead backend). */
  async stop(): Promise<void> {
    for (const s of this.sockets) s.destroy();
    await new Promise<void>((resolve) => this.server.close(() => resolve()));
  }

  /** The counters, as the /fake/stats route reports them. */
  stats(withHolds = false) {
    const counters = {
      calls: this.calls,
      modelCalls: this.modelCalls,
      maxInFlight: this.maxInFlight,
      clientAborts: this.clientAborts,
    };
    return withHolds
      ? { ...counters, holds: this.requests.map((r) => ({ answer: r.answer, holdMs: r.holdMs })) }
      : counters;
  }

  private handle(req: http.IncomingMessage, res: http.ServerResponse): void {
    // A call's hold is the backend's whole share: from its request's headers arriving to its reply sent.
    const receivedAt = performance.now();
    const path = (req.url ?? "").replace(/\?.*$/, "");
    if (req.method === "GET" && path === "/fake/stats") {
      // Not a vLLM route: lets a bench in another process read the counters and hold times.
      this.json(res, 200, this.stats(req.url?.includes("holds=1")));
      return;
    }
    if (this.opts.apiKey && req.headers.authorization !== `Bearer ${this.opts.apiKey}`) {
      req.resume();
      this.json(res, 401, { error: { message: "Invalid API Key", type: "authentication_error", code: 401 } });
      return;
    }
    if (this.loading) {
      req.resume();
      this.json(res, 503, { error: { message: "Loading model", type: "unavailable_error", code: 503 } });
      return;
    }
    if (req.method === "GET" && path === "/v1/models") {
      this.modelCalls++;
      if (this.modelCalls <= (this.opts.loadingCalls ?? 0)) {
        this.json(res, 503, {
          error: { message: "model loading", type: "ServiceUnavailable", code: 503 },
        });
        return;
      }
      this.json(res, 200, {
        object: "list",
        data: [{ id: this.model, object: "model", owned_by: "vllm", root: this.model, max_model_len: 4096 }],
      });
      return;
    }
    if (req.method !== "POST" || path !== "/v1/chat/completions") {
      this.json(res, 404, { error: { message: `no route ${req.method} ${path}`, code: 404 } });
      return;
    }
    const chunks: Buffer[] = [];
    req.on("data", (c: Buffer) => chunks.push(c));
    req.on("end", () => {
      let body: FakeCall["body"];
      try {
        body = JSON.parse(Buffer.concat(chunks).toString("utf8"));
      } catch {
        this.json(res, 400, { error: { message: "request body is not JSON", code: 400 } });
        return;
      }
      const prompt = body.messages?.at(-1)?.content ?? "";
      const call: FakeCall = {
        n: ++this.calls,
        body,
        prompt,
        question: tag(prompt, "question"),
        groundTruth: tag(prompt, "ground_truth_answer"),
        answer: tag(prompt, "model_answer"),
      };
      if (this.opts.record !== false) this.requests.push(call);
      this.inFlight++;
      this.maxInFlight = Math.max(this.maxInFlight, this.inFlight);
      let finished = false;
      const finish = () => {
        if (!finished) {
          finished = true;
          this.inFlight--;
        }
      };
      res.on("close", () => {
        if (!res.writableFinished) this.clientAborts++;
        finish();
      });
      Promise.resolve(this.script(call)).then(
        (reply) =>
          this.reply(call, reply, res, () => {
            call.holdMs = performance.now() - receivedAt;
            finish();
          }),
        (err: Error) =>
          this.json(res, 500, { error: { message: `script failed: ${err.message}`, code: 500 } }),
      );
    });
  }

  private reply(call: FakeCall, reply: FakeReply, res: http.ServerResponse, finish: () => void): void {
    if ("hang" in reply) return;
    const latency = ("latencyMs" in reply ? reply.latencyMs : undefined) ?? this.latencyMs;
    const send = () => {
      if (res.destroyed) return;
      this.write(call, reply, res);
      // After the write: building and sending the reply is the backend's time, not the caller's.
      finish();
    };
    if (latency > 0) setTimeout(send, latency);
    else send();
  }

  private write(call: FakeCall, reply: Exclude<FakeReply, { hang: true }>, res: http.ServerResponse): void {
    if ("close" in reply) {
      res.socket?.destroy();
    } else if ("cut" in reply) {
      res.writeHead(200, { "content-type": "application/json", "content-length": 400 });
      res.write('{"id": "cmpl-1", "choices": [{"message": {"content": "True"}}');
      setTimeout(() => res.socket?.destroy(), 5);
    } else if ("malformed" in reply) {
      res.writeHead(200, { "content-type": "application/json" });
      res.end('{"id": "cmpl-1", "choices": [{"message": {"content": "Tr');
    } else if ("status" in reply) {
      const headers: Record<string, string> = {};
      if (reply.retryAfter !== undefined) headers["retry-after"] = String(reply.retryAfter);
      this.json(
        res,
        reply.status,
        { error: { message: reply.message ?? `status ${reply.status}`, code: reply.status } },
        headers,
      );
    } else {
      this.json(res, 200, this.completion(call, reply));
    }
  }

  private completion(call: FakeCall, reply: { text: string; pTrue?: number; reasoning?: string }) {
    const message: Record<string, unknown> = { role: "assistant", content: reply.text };
    if (reply.reasoning !== undefined) message.reasoning_content = reply.reasoning;
    const choice: Record<string, unknown> = { index: 0, message, finish_reason: "stop" };
    if (call.body.logprobs && this.opts.logprobs !== false) {
      choice.logprobs = { content: tokenize(reply.text, reply.pTrue, call.body.top_logprobs ?? 0) };
    }
    return {
      id: `chatcmpl-${call.n}`,
      object: "chat.completion",
      created: Math.floor(Date.now() / 1000),
      model: this.model,
      choices: [choice],
      usage: { prompt_tokens: Math.ceil(call.prompt.length / 4), completion_tokens: 1, total_tokens: 0 },
    };
  }

  private json(
    res: http.ServerResponse,
    status: number,
    body: unknown,
    headers: Record<string, string> = {},
  ): void {
    const text = JSON.stringify(body);
    res.writeHead(status, {
      "content-type": "application/json",
      "content-length": Buffer.byteLength(text),
      ...headers,
    });
    res.end(text);
  }
}

/**
 * Split like a BPE tokenizer would, roughly: words keep their leading space. The
 * last True/False token (the verdict, after any reasoning) gets alternatives from `pTrue` (both spellings, with and
 * without the space, as Qwen's vocabulary has both); the rest are certain.
 */
function tokenize(text: string, pTrue: number | undefined, top: number) {
  const pieces = text.match(/\s*[A-Za-z]+|\s*[^A-Za-z\s]+|\s+/g) ?? [];
  const verdictAt = pieces.findLastIndex((t) => t.trim() === "True" || t.trim() === "False");
  return pieces.map((token, i) => {
    const word = token.trim();
    if (i !== verdictAt)
      return {
        token,
        logprob: 0,
        bytes: null,
        top_logprobs: top ? [{ token, logprob: 0, bytes: null }] : [],
      };
    const p = Math.min(1 - 1e-9, Math.max(1e-9, pTrue ?? (word === "True" ? 0.999 : 0.001)));
    const lead = token.slice(0, token.length - word.length);
    const alts = [
      { token: `${lead}True`, logprob: Math.log(p * 0.9) },
      { token: `${lead}False`, logprob: Math.log((1 - p) * 0.9) },
      { token: lead ? "True" : " True", logprob: Math.log(p * 0.05) },
      { token: lead ? "False" : " False", logprob: Math.log((1 - p) * 0.05) },
      { token: "The", logprob: Math.log(0.05) },
    ].sort((a, b) => b.logprob - a.logprob);
    const own = alts.find((a) => a.token === token) ?? { token, logprob: 0 };
    return {
      token,
      logprob: own.logprob,
      bytes: null,
      top_logprobs: alts.slice(0, top).map((a) => ({ ...a, bytes: null })),
    };
  });
}

/** Poll until `cond` holds (a stand-in counter, say), or throw after `ms`. */
export async function until(cond: () => boolean, ms = 5_000): Promise<void> {
  const end = Date.now() + ms;
  while (!cond()) {
    if (Date.now() > end) throw new Error("condition not met in time");
    await new Promise((r) => setTimeout(r, 5));
  }
}
