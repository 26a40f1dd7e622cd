import { afterEach, describe, expect, it } from "vitest";
import { type JudgeOptions, LlmJudge } from "../../src/llm/judge.js";
import { FakeVllm, type FakeVllmOptions, until } from "../support/fake-vllm.js";
import { profileOf, registry } from "./profiles.js";

const cleanups: (() => Promise<void>)[] = [];
afterEach(async () => {
  for (const c of cleanups.splice(0).reverse()) await c();
});

async function standIn(opts: FakeVllmOptions = {}) {
  const f = await FakeVllm.start(opts);
  cleanups.push(() => f.stop().catch(() => {}));
  return f;
}

function judgeFor(urls: string[], extra: Partial<JudgeOptions> = {}, logs: string[] = []) {
  const j = new LlmJudge(
    {
      urls,
      model: "",
      profile: "",
      registry,
      apiKey: "",
      concurrency: 64,
      timeoutMs: 2_000,
      retries: 2,
      readyTimeoutMs: 2_000,
      cacheEntries: 1000,
      cacheBytes: 1 << 20,
      backoffMs: 5,
      pollMs: 20,
      ...extra,
    },
    (level, msg) => logs.push(`${level}: ${msg}`),
  );
  cleanups.push(() => j.close());
  return j;
}

const item = (answer: string) => ({ question: "What is 1/2?", groundTruth: "\\frac{1}{2}", answer });

describe("LlmJudge against the vLLM stand-in", () => {
  it("reads the model name from /v1/models, logs readiness, and sends the TinyV prompt verbatim", async () => {
    const f = await standIn({ fixtures: { "0.5": "True" }, loadingCalls: 2 });
    const logs: string[] = [];
    const j = judgeFor([f.url], {}, logs);
    await j.ready();
    expect(j.model()).toBe("zhangchenxu/TinyV-1.5B");
    expect(f.modelCalls).toBe(3);
    expect(logs).toContain(`info: waiting for LLM at ${f.url}`);
    expect(logs).toContain(
      `info: LLM ready: model zhangchenxu/TinyV-1.5B at ${f.url} (prompt: zhangchenxu/TinyV-1.5B)`,
    );
    const r = await j.judge(item("0.5"));
    expect(r).toMatchObject({ outcome: "true", cached: false, backend: f.url });
    const body = f.requests[0]?.body;
    expect(body).toMatchObject({
      model: "zhangchenxu/TinyV-1.5B",
      temperature: 0,
      top_p: 1,
      max_completion_tokens: 8,
      logprobs: true,
      top_logprobs: 5,
    });
    expect(body?.messages).toEqual([
      {
        role: "user",
        content: profileOf("zhangchenxu/TinyV-1.5B")
          .template.replace("{{QUESTION}}", "What is 1/2?")
          .replace("{{GROUND_TRUTH_ANSWER}}", "\\frac{1}{2}")
          .replace("{{MODEL_ANSWER}}", "0.5"),
      },
    ]);
  });

  it("gives up waiting after the bounded wait, with a warning, and answers ERROR until the backend is up", async () => {
    const logs: string[] = [];
    const j = judgeFor(["http://127.0.0.1:9/v1"], { readyTimeoutMs: 200 }, logs);
    const t0 = Date.now();
    await j.ready();
    expect(Date.now() - t0).toBeLessThan(2_000);
    expect(logs.some((l) => /^warn: LLM not ready after/.test(l))).toBe(true);
    const r = await j.judge(item("0.5"));
    expect(r.outcome).toBe("error");
    expect(r.detail).toMatch(/model unknown/);
  });

  it("with no ready wait, the first verdict request reads the model name", async () => {
    const f = await standIn({ model: "zhangchenxu/TinyV-Qwen3-1.7B", fixtures: { "0.5": "True" } });
    const logs: string[] = [];
    const j = judgeFor([f.url], { readyTimeoutMs: 0 }, logs);
    await j.ready();
    expect(f.modelCalls).toBe(0);
    expect(j.model()).toBe("");
    expect(await j.judge(item("0.5"))).toMatchObject({ outcome: "true" });
    expect(j.model()).toBe("zhangchenxu/TinyV-Qwen3-1.7B");
    expect(j.profile()).toBe("zhangchenxu/TinyV-Qwen3-1.7B");
    expect(f.requests[0]?.prompt).toMatch(
      /^You are an AI tasked with identifying if the model's answer is correct/,
    );
  });

  it("returns P(True) from the logprobs, and the cache answers the second time", async () => {
    const f = await standIn({ fixtures: { "0.5": { text: "True", pTrue: 0.8 } } });
    const j = judgeFor([f.url]);
    const a = await j.judge(item("0.5"));
    expect(a.outcome).toBe("true");
    expect(a.pTrue).toBeCloseTo(0.8, 6);
    const b = await j.judge(item("0.5"));
    expect(b).toMatchObject({ outcome: "true", cached: true });
    expect(b.pTrue).toBeCloseTo(0.8, 6);
    expect(f.calls).toBe(1);
    expect(j.stats().cacheHits).toBe(1);
  });

  it("8 identical answers in flight cost one call; 3 distinct answers cost 3", async () => {
    const f = await standIn({ latencyMs: 50, fixtures: { "0.5": "True" } });
    const j = judgeFor([f.url]);
    const answers = ["0.5", "0.5", "1/2", "0.5", "0.6", "1/2", "0.5", "0.5"];
    const rs = await Promise.all(answers.map((a) => j.judge(item(a))));
    expect(f.calls).toBe(3);
    expect(rs.map((r) => r.outcome)).toEqual([
      "true",
      "true",
      "false",
      "true",
      "false",
      "false",
      "true",
      "true",
    ]);
    expect(rs.every((r) => !r.cached)).toBe(true);
    expect(j.stats().shared).toBe(5);
  });

  it("a waiter that aborts leaves the shared call running for the others; when all abort, the HTTP call is aborted", async () => {
    const f = await standIn({ latencyMs: 1_000, fixtures: { "0.5": "True" } });
    const j = judgeFor([f.url]);
    const quitter = new AbortController();
    const p1 = j.judge(item("0.5"), quitter.signal);
    const p2 = j.judge(item("0.5"));
    await until(() => f.inFlight === 1);
    quitter.abort();
    expect(await p1).toMatchObject({ outcome: "error", detail: "cancelled by the caller" });
    expect(await p2).toMatchObject({ outcome: "true" });
    expect(f.calls).toBe(1);
    expect(f.clientAborts).toBe(0);

    const all = [new AbortController(), new AbortController()];
    const ps = all.map((c) => j.judge(item("0.7"), c.signal));
    await until(() => f.inFlight === 1);
    for (const c of all) c.abort(new DOMException("deadline", "TimeoutError"));
    for (const r of await Promise.all(ps)) expect(r.outcome).toBe("timeout");
    await until(() => f.clientAborts === 1);
    expect(f.calls).toBe(2);
    expect(f.clientAborts).toBe(1);
    expect(j.stats().inFlight).toBe(0);
  });

  it("reads a server's deadline abort as TIMEOUT and a cancel as ERROR, at once", async () => {
    const f = await standIn({ script: () => ({ hang: true }) });
    const j = judgeFor([f.url]);
    const deadline = new AbortController();
    const cancel = new AbortController();
    const p1 = j.judge(item("1"), deadline.signal);
    const p2 = j.judge(item("2"), cancel.signal);
    await until(() => f.inFlight === 2);
    deadline.abort(new Error("deadline exceeded"));
    cancel.abort(new Error("call cancelled"));
    expect(await p1).toMatchObject({ outcome: "timeout", detail: "the request's deadline expired" });
    expect(await p2).toMatchObject({ outcome: "error", detail: "cancelled by the caller" });
    await until(() => f.clientAborts === 2);
  });

  it("aborts calls still queued behind the concurrency limit without sending them", async () => {
    const f = await standIn({ latencyMs: 200 });
    const j = judgeFor([f.url], { concurrency: 2 });
    const c = new AbortController();
    const ps = ["a", "b", "c", "d", "e"].map((a) => j.judge(item(a), c.signal));
    await new Promise((r) => setTimeout(r, 50));
    c.abort();
    await Promise.all(ps);
    await new Promise((r) => setTimeout(r, 50));
    expect(f.calls).toBe(2);
    expect(f.clientAborts).toBe(2);
    expect(j.stats().queued).toBe(0);
  });

  it("keeps at most `concurrency` calls in flight per backend", async () => {
    const f = await standIn({ latencyMs: 20 });
    const j = judgeFor([f.url], { concurrency: 4 });
    await Promise.all(Array.from({ length: 40 }, (_, i) => j.judge(item(`${i}`))));
    expect(f.calls).toBe(40);
    expect(f.maxInFlight).toBe(4);
  });

  it("retries a 500 and a 429 (honouring Retry-After), then answers", async () => {
    let n = 0;
    const f = await standIn({
      script: () =>
        ++n === 1 ? { status: 500 } : n === 2 ? { status: 429, retryAfter: 0.2 } : { text: "True" },
    });
    const j = judgeFor([f.url]);
    const t0 = Date.now();
    const r = await j.judge(item("0.5"));
    expect(r.outcome).toBe("true");
    expect(f.calls).toBe(3);
    expect(Date.now() - t0).toBeGreaterThanOrEqual(190);
    expect(j.stats().retries).toBe(2);
  });

  it.each([
    ["a 500", { status: 500, message: "boom" }, "error", /HTTP 500 from .*boom/],
    ["a dropped connection", { close: true }, "error", /connection to .* failed/],
    ["malformed JSON", { malformed: true }, "error", /bad reply from/],
    [
      "a reply cut mid-body",
      { cut: true },
      "error",
      /connection to .* failed: .*before the reply was complete/,
    ],
    ["a hang", { hang: true }, "timeout", /no reply within 150 ms/],
  ] as const)(
    "after retries, %s gives %s with a detail, and is not cached",
    async (_, reply, outcome, detail) => {
      const f = await standIn({ script: () => reply });
      // The model is given, so no /v1/models call leaves a keep-alive socket to reuse: the counts are exact.
      const j = judgeFor([f.url], { timeoutMs: 150, retries: 1, model: "zhangchenxu/TinyV-1.5B" });
      const r = await j.judge(item("0.5"));
      expect(r.outcome).toBe(outcome);
      expect(r.detail).toMatch(detail);
      expect(f.calls).toBe(2);
      await j.judge(item("0.5"));
      expect(f.calls).toBe(4);
    },
  );

  it("a reused keep-alive connection the server dropped is sent again on a fresh one, without a retry", async () => {
    const f = await standIn({ script: (c) => (c.n === 1 ? { close: true } : { text: "True" }) });
    const j = judgeFor([f.url], { retries: 0 });
    await j.ready(); // leaves its /v1/models connection idle in the pool: the chat call reuses it
    expect(await j.judge(item("0.5"))).toMatchObject({ outcome: "true" });
    expect(f.calls).toBe(2);
    expect(j.stats().retries).toBe(0);
  });

  it("text that is neither True nor False is unparseable, not retried, not cached", async () => {
    const f = await standIn({ script: () => ({ text: "I cannot tell" }) });
    const j = judgeFor([f.url]);
    const r = await j.judge(item("0.5"));
    expect(r).toMatchObject({ outcome: "unparseable", cached: false });
    expect(r.detail).toMatch(/neither True nor False.*I cannot tell/);
    expect(f.calls).toBe(1);
  });

  it("a 400 (prompt too long) is the request's fault: no retry, backend stays healthy", async () => {
    const f = await standIn({
      script: () => ({ status: 400, message: "maximum context length is 4096 tokens" }),
    });
    const j = judgeFor([f.url]);
    const r = await j.judge(item("0.5"));
    expect(r.outcome).toBe("error");
    expect(r.detail).toMatch(/HTTP 400.*4096/);
    expect(f.calls).toBe(1);
    expect(j.backends()[0]?.healthy).toBe(true);
  });

  it("a server that refuses logprobs is asked again without them", async () => {
    const f = await standIn({
      script: (c) =>
        c.body.logprobs ? { status: 400, message: "logprobs are not supported" } : { text: "True" },
    });
    const logs: string[] = [];
    const j = judgeFor([f.url], {}, logs);
    expect(await j.judge(item("0.5"))).toMatchObject({ outcome: "true" });
    expect(await j.judge(item("0.6"))).toMatchObject({ outcome: "true" });
    expect(f.calls).toBe(3);
    expect(logs.some((l) => /refused logprobs/.test(l))).toBe(true);
  });

  it("a dead backend opens its circuit: verdicts come back fast as ERROR", async () => {
    const f = await standIn();
    const j = judgeFor([f.url], { model: "zhangchenxu/TinyV-1.5B", retries: 2 });
    await f.stop();
    const t0 = Date.now();
    const rs = await Promise.all(Array.from({ length: 50 }, (_, i) => j.judge(item(`${i}`))));
    expect(Date.now() - t0).toBeLessThan(1_000);
    expect(rs.every((r) => r.outcome === "error")).toBe(true);
    expect(rs.some((r) => /circuit open/.test(r.detail ?? ""))).toBe(true);
    expect(j.backends()[0]?.healthy).toBe(false);
    expect(j.stats().circuitOpened).toBe(1);
  });

  it("when the first backend dies, the second takes over, and calls spread to the least loaded", async () => {
    const a = await standIn({ latencyMs: 20, fixtures: { x: "True" } });
    const b = await standIn({ latencyMs: 20, fixtures: { x: "True" } });
    const logs: string[] = [];
    const j = judgeFor(
      [a.url, b.url, "http://127.0.0.1:9/v1"],
      { concurrency: 8, readyTimeoutMs: 300 },
      logs,
    );
    await j.ready();
    await Promise.all(Array.from({ length: 32 }, (_, i) => j.judge(item(`warm-${i}`))));
    expect(a.calls).toBeGreaterThan(8);
    expect(b.calls).toBeGreaterThan(8);
    await a.stop();
    const before = b.calls;
    const rs = await Promise.all(
      Array.from({ length: 40 }, () => j.judge(item("x"))).concat(
        Array.from({ length: 40 }, (_, i) => j.judge(item(`after-${i}`))),
      ),
    );
    expect(rs.every((r) => r.outcome === "true" || r.outcome === "false")).toBe(true);
    expect(rs.filter((r) => r.backend === b.url).length).toBe(80);
    expect(b.calls - before).toBe(41);
    expect(j.backends().find((x) => x.url === a.url)?.healthy).toBe(false);
    // The third URL never came up: said once, at the end of the ready wait.
    await until(() => logs.some((l) => l.includes("LLM not ready at")));
    expect(logs.filter((l) => l.startsWith("warn: LLM not ready at http://127.0.0.1:9/v1"))).toHaveLength(1);
  });

  it("a half-open circuit sends one probe, queues the calls that come meanwhile, and lets them all through when it succeeds", async () => {
    let down = true;
    const f = await standIn({
      latencyMs: 100,
      script: () => (down ? { status: 500, latencyMs: 0 } : { text: "True" }),
    });
    const j = judgeFor([f.url], { model: "m", retries: 0 });
    for (let i = 0; i < 5; i++) await j.judge(item(`${i}`));
    expect(j.backends()[0]?.healthy).toBe(false);
    const calls = f.calls;
    // Open: fail fast, quoting the latest failure and when it happened.
    const fast = await j.judge(item("z"));
    expect(fast.detail).toMatch(/circuit open: http:\S+: HTTP 500 from .* \(just now; next try in 1 s\)/);
    expect(f.calls).toBe(calls);
    down = false;
    await new Promise((r) => setTimeout(r, 1_050));
    // The first of these is the probe; the other 63 wait behind it rather than fail.
    const rs = await Promise.all(Array.from({ length: 64 }, (_, i) => j.judge(item(`after-${i}`))));
    expect(rs.filter((r) => r.outcome !== "true").map((r) => r.detail)).toEqual([]);
    expect(f.calls).toBe(calls + 64);
    expect(j.backends()[0]?.healthy).toBe(true);
    // The probe went alone: the others were sent only once it had answered.
    const probe = f.requests[calls];
    expect(probe?.answer).toBe("after-0");
    expect(f.maxInFlight).toBeLessThanOrEqual(63);
    expect(f.maxInFlight).toBeGreaterThan(32);
  });

  it("a backend restarted on its port: the first batch after it is back is judged, none failed", async () => {
    const f = await standIn({ latencyMs: 20, fixtures: { x: "True" } });
    const port = Number(new URL(f.url).port);
    const j = judgeFor([f.url], { model: "zhangchenxu/TinyV-1.5B", retries: 1 });
    expect(await j.judge(item("warm"))).toMatchObject({ outcome: "false" });
    await f.stop();
    const during = await Promise.all(Array.from({ length: 20 }, (_, i) => j.judge(item(`down-${i}`))));
    expect(during.every((r) => r.outcome === "error")).toBe(true);
    expect(j.backends()[0]?.healthy).toBe(false);
    const again = await standIn({ port, latencyMs: 20, fixtures: { x: "True" } });
    const rs = await Promise.all(Array.from({ length: 64 }, (_, i) => j.judge(item(`back-${i}`))));
    expect(rs.filter((r) => r.outcome !== "false").map((r) => r.detail)).toEqual([]);
    expect(again.calls).toBe(64);
    expect(j.backends()[0]?.healthy).toBe(true);
  });

  it("a 503 while the model reloads: calls wait for it and are judged, not failed", async () => {
    const f = await standIn({ latencyMs: 10, fixtures: { x: "True" } });
    const j = judgeFor([f.url], { model: "zhangchenxu/TinyV-1.5B", retries: 2 });
    expect(await j.judge(item("warm"))).toMatchObject({ outcome: "false" });
    f.loading = true;
    setTimeout(() => {
      f.loading = false;
    }, 1_500);
    const t0 = Date.now();
    const rs = await Promise.all(Array.from({ length: 8 }, (_, i) => j.judge(item(`r${i}`))));
    expect(rs.map((r) => r.outcome)).toEqual(Array(8).fill("false"));
    expect(Date.now() - t0).toBeGreaterThanOrEqual(1_400);
  });

  it("a backend that hangs is TIMEOUT, before and after its circuit opens, never ERROR", async () => {
    const f = await standIn({ script: () => ({ hang: true }) });
    const j = judgeFor([f.url], { model: "zhangchenxu/TinyV-1.5B", timeoutMs: 150, retries: 1 });
    const first = await Promise.all(Array.from({ length: 10 }, (_, i) => j.judge(item(`h${i}`))));
    expect(j.backends()[0]?.healthy).toBe(false);
    const later = await Promise.all(Array.from({ length: 10 }, (_, i) => j.judge(item(`k${i}`))));
    for (const r of [...first, ...later]) {
      expect(r.outcome).toBe("timeout");
      expect(r.detail).toMatch(/no reply within 150 ms/);
    }
    expect(later.some((r) => /circuit open/.test(r.detail ?? ""))).toBe(true);
  });

  it("a call that times out while others there are answered is retried, warned of, and not held against the server", async () => {
    // As llama.cpp does with a connection none of its HTTP threads reads.
    const f = await standIn({
      latencyMs: 30,
      script: (c) => (c.n === 1 ? { hang: true } : { text: "True" }),
    });
    const logs: string[] = [];
    const j = judgeFor([f.url], { model: "zhangchenxu/TinyV-1.5B", timeoutMs: 500, retries: 1 }, logs);
    const rs = await Promise.all(Array.from({ length: 8 }, (_, i) => j.judge(item(`s${i}`))));
    expect(rs.map((r) => r.outcome)).toEqual(Array(8).fill("true"));
    expect(logs.filter((l) => /time out while others there are answered/.test(l))).toHaveLength(1);
    expect(j.backends()[0]?.healthy).toBe(true);
  });

  it("a wrong API key is named in the verdict's detail, and the ready wait ends at once", async () => {
    const f = await standIn({ apiKey: "right" });
    const logs: string[] = [];
    const j = judgeFor([f.url], { apiKey: "wrong", readyTimeoutMs: 10_000 }, logs);
    const t0 = Date.now();
    await j.ready();
    expect(Date.now() - t0).toBeLessThan(2_000);
    expect(logs.some((l) => /^error: LLM at .* refuses our API key: HTTP 401/.test(l))).toBe(true);
    const r = await j.judge(item("0.5"));
    expect(r.outcome).toBe("error");
    expect(r.detail).toMatch(
      /LLM model unknown: .*\/models: HTTP 401 from .*Invalid API Key \(check --llm-api-key\)/,
    );
    // With the model named, the chat call's 401 says the same.
    const named = judgeFor([f.url], { apiKey: "wrong", model: "zhangchenxu/TinyV-1.5B" });
    expect((await named.judge(item("0.5"))).detail).toMatch(
      /HTTP 401 .*Invalid API Key \(check --llm-api-key\)/,
    );
  });

  it("no P(True) on an unparseable reply, even when its first token looks like a prefix of a verdict word", async () => {
    const f = await standIn({ script: () => ({ text: "fa fa" }) });
    const j = judgeFor([f.url]);
    const r = await j.judge(item("0.5"));
    expect(r.outcome).toBe("unparseable");
    expect(r.pTrue).toBeUndefined();
  });

  it("logprobs that disagree with the sampled verdict (taken before a constraint) give no P(True)", async () => {
    // llama.cpp with logit_bias or a grammar: " False" sampled, while the logprobs favour " True".
    const f = await standIn({ script: () => ({ text: "False", pTrue: 0.689 }) });
    const j = judgeFor([f.url]);
    const r = await j.judge(item("0.5"));
    expect(r.outcome).toBe("false");
    expect(r.pTrue).toBeUndefined();
    expect(r.detail).toMatch(/P\(True\) 0\.689 left out: the False token was not the most likely one/);
    // Consistent logprobs are kept.
    f.script = () => ({ text: "False", pTrue: 0.2 });
    expect((await j.judge(item("0.6"))).pTrue).toBeCloseTo(0.2, 6);
  });

  it("a thinking model served under its GGUF file name gets the thinking profile", async () => {
    const f = await standIn({
      model: "TinyV-Qwen3-1.7B-Think-Q8_0.gguf",
      script: () => ({ text: "<think>same value</think>\n\nTrue" }),
    });
    const logs: string[] = [];
    const j = judgeFor([f.url], {}, logs);
    await j.ready();
    expect(j.profile()).toBe("zhangchenxu/TinyV-Qwen3-1.7B-Think");
    expect(await j.judge(item("0.5"))).toMatchObject({ outcome: "true" });
    expect(f.requests[0]?.body.max_completion_tokens).toBe(512);
    expect(logs.filter((l) => l.startsWith("warn"))).toEqual([]);
  });

  it("an unknown thinking model is refused clearly rather than judged with the non-thinking prompt", async () => {
    const f = await standIn({ model: "MyJudge-Think-7B.Q4_K_M.gguf" });
    const logs: string[] = [];
    const j = judgeFor([f.url], {}, logs);
    await j.ready();
    expect(
      logs.some((l) =>
        /^error: LLM model "MyJudge-Think-7B.Q4_K_M.gguf" looks like a thinking model/.test(l),
      ),
    ).toBe(true);
    const r = await j.judge(item("0.5"));
    expect(r.outcome).toBe("error");
    expect(r.detail).toMatch(/looks like a thinking model .*set --llm-profile/);
    expect(f.calls).toBe(0);
    // Naming the profile is the way out.
    const named = judgeFor([f.url], { profile: "zhangchenxu/TinyV-1.5B-Think" });
    await named.ready();
    expect(await named.judge(item("0.5"))).toMatchObject({ outcome: "unparseable" });
  });

  it("reads a think model's verdict after </think>", async () => {
    const f = await standIn({
      model: "zhangchenxu/TinyV-Qwen3-1.7B-Think",
      script: () => ({ text: "<think>0.5 equals 1/2, so True.</think>\n\nTrue", pTrue: 0.9 }),
    });
    const j = judgeFor([f.url]);
    await j.ready();
    const r = await j.judge(item("0.5"));
    expect(r.outcome).toBe("true");
    expect(r.pTrue).toBeCloseTo(0.9, 6);
    expect(f.requests[0]?.body.max_completion_tokens).toBe(512);
  });
});
