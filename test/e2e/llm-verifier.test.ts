import { create, type MessageInitShape } from "@bufbuild/protobuf";
import * as grpc from "@grpc/grpc-js";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import {
  DecidedBy,
  ErrorCode,
  LlmOutcome,
  Mode,
  RuleOutcome,
  type Verdict,
  VerifyRequestSchema,
} from "../../src/gen/tinyv/v1/verifier_pb.js";
import { FakeVllm, type FakeVllmOptions, until } from "../support/fake-vllm.js";
import { health, untilServing } from "../support/health.js";
import { grpcClient, openStream, startTinyv, streamAll, type Tinyv, unary } from "../support/tinyv.js";

// End to end: `tinyv serve` (the built binary) with the vLLM stand-in as its LLM backend.

const Q = "Simplify 2/4.";
const GOLD = "\\frac{1}{2}";
/** Rules accept this one. */
type Init = MessageInitShape<typeof VerifyRequestSchema>;
const accepted = (id: string, opts: Init = {}) =>
  create(VerifyRequestSchema, { id, question: Q, groundTruth: GOLD, response: "so \\boxed{0.5}", ...opts });
/** Rules reject these; the stand-in says True for "one half", False for "0.6". */
const rejected = (id: string, answer = "one half", opts: Init = {}) =>
  create(VerifyRequestSchema, {
    id,
    question: Q,
    groundTruth: GOLD,
    response: `Long reasoning ... the answer is \\boxed{${answer}}`,
    ...opts,
  });

const fixtures = { "one half": { text: "True", pTrue: 0.9 }, "0.6": { text: "False", pTrue: 0.2 } };

describe("tinyv serve with the vLLM stand-in", () => {
  let llm: FakeVllm;
  let server: Tinyv;
  let client: grpc.Client;

  beforeAll(async () => {
    llm = await FakeVllm.start({ fixtures, latencyMs: 20, loadingCalls: 1 });
    server = await startTinyv(["--llm-url", llm.url, "--llm-weight", "0.7", "--log-level", "info"]);
    client = grpcClient(server.grpcAddress);
    await untilServing(server);
  });
  afterAll(async () => {
    client?.close();
    await server?.stop();
    await llm?.stop();
  });

  it("waits for the backend at start and says so", () => {
    expect(server.stderr()).toContain(`waiting for LLM at ${llm.url}`);
    expect(server.stderr()).toContain(`LLM ready: model zhangchenxu/TinyV-1.5B at ${llm.url}`);
  });

  it("a rule accept makes no call", async () => {
    const before = llm.calls;
    const v = await unary<Verdict>(client, "Verify", accepted("acc"));
    expect(v).toMatchObject({ reward: 1, decidedBy: DecidedBy.RULES, llmOutcome: LlmOutcome.NOT_ASKED });
    expect(llm.calls).toBe(before);
  });

  it("a rule reject makes one call with the extracted answer and gets reward 1 when the model says True", async () => {
    const before = llm.calls;
    const v = await unary<Verdict>(client, "Verify", rejected("rej", "one half", { question: "Q-first" }));
    expect(v).toMatchObject({
      reward: 0.7,
      correct: true,
      decidedBy: DecidedBy.LLM,
      ruleOutcome: RuleOutcome.MISMATCH,
      llmOutcome: LlmOutcome.TRUE,
    });
    expect(v.pTrue).toBeCloseTo(0.9, 6);
    expect(v.timings?.llmMs).toBeGreaterThan(0);
    expect(llm.calls).toBe(before + 1);
    const call = llm.requests.at(-1);
    expect(call?.answer).toBe("one half");
    expect(call?.question).toBe("Q-first");
    // Again: the cache answers.
    const again = await unary<Verdict>(
      client,
      "Verify",
      rejected("rej2", "one half", { question: "Q-first" }),
    );
    expect(again).toMatchObject({ decidedBy: DecidedBy.CACHE, llmOutcome: LlmOutcome.TRUE, reward: 0.7 });
    expect(llm.calls).toBe(before + 1);
  });

  it("8 duplicate answers of a GRPO group make one call; 3 distinct answers make 3", async () => {
    const before = llm.calls;
    const dup = Array.from({ length: 8 }, (_, i) =>
      rejected(`d${i}`, "one half", { question: "dup-q", options: { mode: Mode.LLM_ONLY } }),
    );
    const vs = await streamAll(client, dup);
    expect(vs).toHaveLength(8);
    expect(vs.every((v) => v.reward === 1 && v.llmOutcome === LlmOutcome.TRUE)).toBe(true);
    expect(llm.calls).toBe(before + 1);
    const group = ["one half", "0.6", "0.7", "one half", "0.6", "0.7", "one half", "0.6"].map((a, i) =>
      rejected(`g${i}`, a, { question: "group-q" }),
    );
    await streamAll(client, group);
    expect(llm.calls).toBe(before + 4);
    // The same counts reach Prometheus: HTTP calls made, and verdicts that joined one or hit the cache.
    const metrics = await (await fetch(`${server.httpUrl}/metrics`)).text();
    const value = (name: string) => Number(new RegExp(`^${name} (\\d+)$`, "m").exec(metrics)?.[1]);
    expect(value("tinyv_llm_http_calls_total")).toBe(llm.calls);
    expect(value("tinyv_llm_shared_total") + value("tinyv_llm_cache_hits_total")).toBeGreaterThanOrEqual(
      7 + 4,
    );
    expect(value("tinyv_llm_in_flight")).toBe(0);
  });

  it("applies every mode's reward formula (weight 0.7), and P(True) as a soft reward", async () => {
    // [mode, the stand-in's verdict is True, rules accept, expected reward, who decided]
    const cases: [Mode, "acc" | "true" | "false", number, DecidedBy][] = [
      [Mode.ADDON, "acc", 1, DecidedBy.RULES],
      [Mode.ADDON, "true", 0.7, DecidedBy.LLM],
      [Mode.ADDON, "false", 0, DecidedBy.LLM],
      [Mode.LLM_ONLY, "acc", 0, DecidedBy.LLM], // the stand-in says False for "0.5"
      [Mode.LLM_ONLY, "true", 1, DecidedBy.LLM],
      [Mode.RULES_ONLY, "true", 0, DecidedBy.RULES],
      [Mode.RULES_ONLY, "acc", 1, DecidedBy.RULES],
      [Mode.MIXED, "acc", 0.3, DecidedBy.LLM],
      [Mode.MIXED, "true", 0.7, DecidedBy.LLM],
      [Mode.MIXED, "false", 0, DecidedBy.LLM],
    ];
    const items = cases.map(([mode, kind], i) => {
      const opts = { question: `modes-${i}`, options: { mode } };
      return kind === "acc"
        ? accepted(`m${i}`, opts)
        : rejected(`m${i}`, kind === "true" ? "one half" : "0.6", opts);
    });
    const byId = new Map((await streamAll(client, items)).map((v) => [v.id, v]));
    cases.forEach(([mode, kind, want, decided], i) => {
      const v = byId.get(`m${i}`);
      expect([mode, kind, v?.mode, v?.reward, v?.decidedBy]).toEqual([
        mode,
        kind,
        mode,
        expect.closeTo(want, 9),
        decided,
      ]);
    });
    const soft = await unary<Verdict>(
      client,
      "Verify",
      rejected("s1", "one half", { question: "soft-q", options: { mode: Mode.LLM_ONLY, softReward: true } }),
    );
    expect(soft.reward).toBeCloseTo(0.9, 6);
  });
});

describe("tinyv serve while its LLM starts", () => {
  it("opens its ports at once, NOT_SERVING until the LLM is ready; a call sent meanwhile waits and is judged", async () => {
    // "Loading model" (503 on every route, as llama.cpp's server) until the test says otherwise.
    const llm = await FakeVllm.start({ fixtures });
    llm.loading = true;
    const server = await startTinyv(["--llm-url", llm.url]);
    const client = grpcClient(server.grpcAddress);
    try {
      // The ports were printed while the LLM was still loading (before, they waited for it).
      expect(await health(server)).toEqual({ grpc: "NOT_SERVING", http: 503 });
      expect(await (await fetch(`${server.httpUrl}/healthz`)).text()).toBe("NOT_SERVING\n");
      const early = unary<Verdict>(client, "Verify", rejected("early"));
      await new Promise((r) => setTimeout(r, 1_000));
      expect(await health(server)).toEqual({ grpc: "NOT_SERVING", http: 503 });
      llm.loading = false;
      expect(await early).toMatchObject({ llmOutcome: LlmOutcome.TRUE, reward: 1 });
      expect(await health(server)).toEqual({ grpc: "SERVING", http: 200 });
      expect(server.stderr()).toContain("LLM ready");
    } finally {
      client.close();
      await server.stop();
      await llm.stop();
    }
  });

  it("--soft-reward works as a bare flag, and --soft-reward false still turns it off", async () => {
    const llm = await FakeVllm.start({ fixtures });
    const bare = await startTinyv(["--llm-url", llm.url, "--soft-reward"]);
    const off = await startTinyv(["--llm-url", llm.url, "--soft-reward", "false"]);
    const clients = [grpcClient(bare.grpcAddress), grpcClient(off.grpcAddress)];
    try {
      const [soft, hard] = await Promise.all(
        clients.map((c) => unary<Verdict>(c, "Verify", rejected("s", "one half"))),
      );
      expect(soft?.reward).toBeCloseTo(0.9, 6);
      expect(hard?.reward).toBe(1);
    } finally {
      for (const c of clients) c.close();
      await bare.stop();
      await off.stop();
      await llm.stop();
    }
  });
});

describe("tinyv serve when the LLM misbehaves", () => {
  const servers: Tinyv[] = [];
  const standIns: FakeVllm[] = [];
  afterAll(async () => {
    for (const s of servers) await s.stop();
    for (const f of standIns) await f.stop().catch(() => {});
  });
  const serve = async (args: string[]) => {
    const s = await startTinyv(args);
    servers.push(s);
    return { server: s, client: grpcClient(s.grpcAddress) };
  };
  const standIn = async (opts: FakeVllmOptions = {}) => {
    const f = await FakeVllm.start({ fixtures, ...opts });
    standIns.push(f);
    return f;
  };

  it("a dead backend gives the rule verdict with LLM outcome ERROR, and the stream keeps flowing", async () => {
    const f = await standIn({ script: () => ({ status: 500, message: "CUDA out of memory" }) });
    const { client } = await serve(["--llm-url", f.url, "--llm-retries", "1"]);
    const items = Array.from({ length: 300 }, (_, i) =>
      i % 3 === 0 ? accepted(`ok${i}`) : rejected(`x${i}`, `${i + 7}`),
    );
    const vs = await streamAll(client, items);
    expect(vs).toHaveLength(300);
    for (const v of vs) {
      if (v.id.startsWith("ok")) expect(v).toMatchObject({ reward: 1, llmOutcome: LlmOutcome.NOT_ASKED });
      else {
        expect(v).toMatchObject({ reward: 0, decidedBy: DecidedBy.RULES, llmOutcome: LlmOutcome.ERROR });
        expect(v.llmDetail).toMatch(/HTTP 500 .*CUDA out of memory|circuit open/);
        expect(v.error).toBeUndefined();
      }
    }
    // The circuit opened: about one wave of 64 calls in flight, not 200 items x 2 attempts.
    expect(f.calls).toBeLessThan(150);
    client.close();
  });

  it("with --llm-failure fail, a failed LLM fails the item instead (LLM_FAILED)", async () => {
    const f = await standIn({ script: () => ({ status: 503 }) });
    const { client } = await serve(["--llm-url", f.url, "--llm-retries", "0", "--llm-failure", "fail"]);
    const v = await unary<Verdict>(client, "Verify", rejected("f1"));
    expect(v.error?.code).toBe(ErrorCode.LLM_FAILED);
    expect(v.error?.message).toMatch(/HTTP 503/);
    client.close();
  });

  it("a second backend takes over when the first dies mid-stream", async () => {
    const a = await standIn({ latencyMs: 30 });
    const b = await standIn({ latencyMs: 30 });
    const { client } = await serve(["--llm-url", `${a.url},${b.url}`, "--llm-concurrency", "8"]);
    let bAtStop = 0;
    const vs = await new Promise<Verdict[]>((resolve, reject) => {
      const call = openStream(client);
      const got: Verdict[] = [];
      call.on("data", (v: Verdict) => {
        got.push(v);
        if (got.length === 40) {
          bAtStop = b.calls;
          void a.stop();
        }
      });
      call.on("end", () => resolve(got));
      call.on("error", reject);
      for (let i = 0; i < 200; i++) call.write(rejected(`f${i}`, i % 2 ? "one half" : `${i + 7}`));
      call.end();
    });
    expect(vs).toHaveLength(200);
    const failed = vs.filter((v) => v.llmOutcome === LlmOutcome.ERROR || v.llmOutcome === LlmOutcome.TIMEOUT);
    expect(failed.map((v) => v.llmDetail)).toEqual([]);
    expect(vs.filter((v) => v.llmOutcome === LlmOutcome.TRUE).length).toBeGreaterThan(50);
    expect(a.calls).toBeGreaterThan(0);
    expect(b.calls - bAtStop).toBeGreaterThan(20);
    client.close();
  });

  it("a soft reward never pays a False verdict from logprobs taken before a constraint", async () => {
    // What llama.cpp returns with logit_bias or a grammar: " False" sampled, logprobs favouring " True".
    const f = await standIn({ script: () => ({ text: "False", pTrue: 0.689 }) });
    const { client } = await serve(["--llm-url", f.url, "--soft-reward", "--mode", "llm_only"]);
    const v = await unary<Verdict>(client, "Verify", rejected("c1"));
    expect(v).toMatchObject({ llmOutcome: LlmOutcome.FALSE, reward: 0, correct: false });
    expect(v.pTrue).toBeUndefined();
    expect(v.llmDetail).toMatch(/left out: the False token was not the most likely one/);
    client.close();
  });

  it("a backend that hangs gives TIMEOUT on every item, also once its circuit is open", async () => {
    const f = await standIn({ script: () => ({ hang: true }) });
    const { client } = await serve(["--llm-url", f.url, "--llm-timeout-ms", "300", "--llm-retries", "1"]);
    const vs = await streamAll(
      client,
      Array.from({ length: 40 }, (_, i) => rejected(`h${i}`, `${i + 7}`)),
    );
    expect(vs).toHaveLength(40);
    expect(vs.filter((v) => v.llmOutcome !== LlmOutcome.TIMEOUT).map((v) => v.llmDetail)).toEqual([]);
    expect(vs.every((v) => /no reply within 300 ms/.test(v.llmDetail))).toBe(true);
    const later = await unary<Verdict>(client, "Verify", rejected("h-later", "99"));
    expect(later.llmOutcome).toBe(LlmOutcome.TIMEOUT);
    expect(later.llmDetail).toMatch(/circuit open: .*no reply within 300 ms/);
    client.close();
  });

  it("a cancelled stream, or an expired deadline, aborts its pending LLM calls", async () => {
    const f = await standIn({ script: () => ({ hang: true }) });
    const { client } = await serve(["--llm-url", f.url]);
    const call = openStream(client);
    call.on("error", () => {});
    for (let i = 0; i < 20; i++) call.write(rejected(`c${i}`, `${i + 7}`));
    // The rules run first; on a loaded machine they can take a while.
    await until(() => f.inFlight === 20, 30_000);
    call.cancel();
    await until(() => f.clientAborts === 20 && f.inFlight === 0);

    const aborts = f.clientAborts;
    const status = await new Promise<grpc.ServiceError | null>((resolve) => {
      const verify = (client as unknown as Record<string, (...a: unknown[]) => void>).Verify;
      verify?.call(
        client,
        rejected("dl", "99"),
        new grpc.Metadata(),
        { deadline: Date.now() + 300 },
        resolve,
      );
    });
    expect(status?.code).toBe(grpc.status.DEADLINE_EXCEEDED);
    await until(() => f.clientAborts === aborts + 1 && f.inFlight === 0);
    client.close();
  });
});
