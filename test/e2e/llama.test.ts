import { copyFileSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import net from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { create, type MessageInitShape } from "@bufbuild/protobuf";
import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import {
  DecidedBy,
  LlmOutcome,
  Mode,
  type Verdict,
  VerifyRequestSchema,
} from "../../src/gen/tinyv/v1/verifier_pb.js";
import { loadRegistry, renderPrompt } from "../../src/llm/registry.js";
import { health, untilServing } from "../support/health.js";
import { type Llama, type ModelKind, startLlama, untilHealthy, writeModels } from "../support/llama.js";
import { grpcClient, openStream, startTinyv, streamAll, unary } from "../support/tinyv.js";

// End to end against a real inference engine: `tinyv serve --llm-url` in front of llama.cpp's
// llama-server (built by scripts/llama/build.sh) serving tiny GGUF judges written for the test.

const Q = "Simplify 2/4.";
const GOLD = "\\frac{1}{2}";
type Init = MessageInitShape<typeof VerifyRequestSchema>;
/** The rules reject this answer, so the LLM is asked. */
const rejected = (id: string, answer = "one half", opts: Init = {}) =>
  create(VerifyRequestSchema, {
    id,
    question: Q,
    groundTruth: GOLD,
    response: `so \\boxed{${answer}}`,
    ...opts,
  });

let dir: string;
let models: Record<ModelKind, string>;
let tokens: Record<string, number>;
const cleanups: (() => Promise<unknown>)[] = [];

beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), "tinyv-llama-"));
  models = writeModels(dir);
  tokens = JSON.parse(readFileSync(join(dir, "tokens.json"), "utf8"));
});
afterEach(async () => {
  for (const c of cleanups.splice(0).reverse()) await c().catch(() => {});
});
afterAll(() => rmSync(dir, { recursive: true, force: true }));

async function llama(
  kind: ModelKind | string,
  args: string[] = [],
  opts: { port?: number; ready?: boolean } = {},
) {
  const l = await startLlama(kind in models ? models[kind as ModelKind] : kind, args, opts);
  cleanups.push(() => l.stop());
  return l;
}

/** One rule worker: these items are rule-rejected at once, and starting fewer threads keeps a busy machine's start short. */
const ONE_WORKER = ["--workers", "1"];

async function tinyv(args: string[]) {
  const server = await startTinyv([...ONE_WORKER, ...args]);
  const client = grpcClient(server.grpcAddress);
  cleanups.push(async () => {
    client.close();
    await server.stop();
  });
  await untilServing(server);
  return { server, client };
}

const freePort = () =>
  new Promise<number>((resolve) => {
    const s = net.createServer().listen(0, "127.0.0.1", () => {
      const { port } = s.address() as net.AddressInfo;
      s.close(() => resolve(port));
    });
  });

/** The same chat request tinyv sends, straight to the engine: its own logprobs at the verdict token. */
async function engineTopLogprobs(l: Llama, answer: string, question = Q) {
  const profile = loadRegistry().get("zhangchenxu/TinyV-1.5B");
  if (!profile) throw new Error("no TinyV-1.5B profile");
  const content = renderPrompt(profile, { question, groundTruth: GOLD, answer });
  const res = await fetch(`${l.url}/chat/completions`, {
    method: "POST",
    headers: { "content-type": "application/json" },
    body: JSON.stringify({
      messages: [{ role: "user", content }],
      temperature: 0,
      max_tokens: 8,
      logprobs: true,
      top_logprobs: 5,
    }),
  });
  const body = (await res.json()) as {
    choices: { logprobs: { content: { top_logprobs: { token: string; logprob: number }[] }[] } }[];
  };
  return body.choices[0]?.logprobs.content[0]?.top_logprobs ?? [];
}

/** P(True) computed here from the engine's reply: True-side mass over True plus False. */
function pTrueOf(top: { token: string; logprob: number }[]): number {
  const side = (w: string) =>
    top.filter((t) => t.token.trim().toLowerCase() === w).reduce((s, t) => s + Math.exp(t.logprob), 0);
  return side("true") / (side("true") + side("false"));
}

describe("tinyv serve with llama.cpp's llama-server", () => {
  it("waits through the engine's start (refused, then 503 Loading model), NOT_SERVING until it answers", async () => {
    const port = await freePort();
    const url = `http://127.0.0.1:${port}/v1`;
    const server = await startTinyv([...ONE_WORKER, "--llm-url", url]);
    const client = grpcClient(server.grpcAddress);
    cleanups.push(async () => {
      client.close();
      await server.stop();
    });
    expect(await health(server)).toEqual({ grpc: "NOT_SERVING", http: 503 });
    // Watch what the engine itself answers while it starts.
    const seen = new Set<string>();
    let watching = true;
    const watcher = (async () => {
      while (watching) {
        try {
          const r = await fetch(`${url}/models`);
          const text = await r.text();
          seen.add(r.status === 503 && /Loading model/.test(text) ? "503 Loading model" : String(r.status));
        } catch {
          seen.add("refused");
        }
        await new Promise((r) => setTimeout(r, 2));
      }
    })();
    await new Promise((r) => setTimeout(r, 700));
    expect(await health(server)).toEqual({ grpc: "NOT_SERVING", http: 503 });
    await llama("true", ["--alias", "zhangchenxu/TinyV-1.5B"], { port, ready: false });
    await untilServing(server);
    watching = false;
    await watcher;
    // Its load takes ~150 ms: a starved test process may not see the 503 phase (the stand-in's test pins
    // tinyv's reading of that very reply); whatever it saw is in this order, and nothing else.
    const order = ["refused", "503 Loading model", "200"];
    expect([...seen].every((x) => order.includes(x))).toBe(true);
    expect([...seen]).toEqual(order.filter((x) => seen.has(x)));
    expect([...seen].at(-1)).toBe("200");
    expect(server.stderr()).toContain(`LLM ready: model zhangchenxu/TinyV-1.5B at ${url}`);
    const v = await unary<Verdict>(client, "Verify", rejected("r1"));
    expect(v).toMatchObject({ llmOutcome: LlmOutcome.TRUE, decidedBy: DecidedBy.LLM, reward: 1 });
  });

  it("TRUE, FALSE and UNPARSEABLE verdicts, with P(True) exactly as the engine's logprobs give it", async () => {
    const engines = await Promise.all(
      (["true", "false", "random"] as const).map((k) => llama(k, ["--alias", "zhangchenxu/TinyV-1.5B"])),
    );
    const servers = [];
    for (const l of engines) servers.push(await tinyv(["--llm-url", l.url, "--mode", "llm_only"]));
    const [vt, vf, vu] = await Promise.all(
      servers.map((t) => unary<Verdict>(t.client, "Verify", rejected("v", "one half"))),
    );
    const [yes, no] = engines as [Llama, Llama];
    const pt = pTrueOf(await engineTopLogprobs(yes, "one half"));
    expect(pt).toBeGreaterThan(0.8);
    expect(vt).toMatchObject({ llmOutcome: LlmOutcome.TRUE, reward: 1, correct: true });
    expect(vt?.pTrue).toBeCloseTo(pt, 9);
    const pf = pTrueOf(await engineTopLogprobs(no, "one half"));
    expect(pf).toBeLessThan(0.2);
    expect(vf).toMatchObject({ llmOutcome: LlmOutcome.FALSE, reward: 0, correct: false });
    expect(vf?.pTrue).toBeCloseTo(pf, 9);
    expect(vu).toMatchObject({ llmOutcome: LlmOutcome.UNPARSEABLE, reward: 0 });
    expect(vu?.pTrue).toBeUndefined();
    expect(vu?.llmDetail).toMatch(/neither True nor False|control characters|is not/);
  });

  it("a thinking model served under its GGUF file name, its reasoning inline or split out by the server", async () => {
    const file = join(dir, "TinyV-Qwen3-1.7B-Think-Q8_0.gguf");
    copyFileSync(models.think, file);
    const [inline, split] = await Promise.all([
      llama(file, ["--reasoning-format", "none"]),
      llama(file, ["--reasoning-format", "deepseek"]),
    ]);
    for (const l of [inline, split]) {
      const { server, client } = await tinyv(["--llm-url", l.url, "--mode", "llm_only"]);
      expect(server.stderr()).toContain("(prompt: zhangchenxu/TinyV-Qwen3-1.7B-Think)");
      const v = await unary<Verdict>(client, "Verify", rejected("t", "0.5"));
      expect(v).toMatchObject({ llmOutcome: LlmOutcome.TRUE, reward: 1 });
      // The verdict token after </think>: " True" at 12 against " False" at 10.
      expect(v.pTrue).toBeCloseTo(1 / (1 + Math.exp(-2)), 2);
    }
  });

  it("64 items in flight against the engine's defaults: every one judged, no stall", async () => {
    const l = await llama("true", ["--alias", "zhangchenxu/TinyV-1.5B"]);
    // No retries, so a call that sat on a connection nobody reads would show as TIMEOUT.
    const { server, client } = await tinyv([
      "--llm-url",
      l.url,
      "--llm-retries",
      "0",
      "--llm-timeout-ms",
      "10000",
    ]);
    // 4 slots by default: more calls in flight there would sit on connections its HTTP threads do not read.
    expect(server.stderr()).toMatch(/is llama.cpp with 4 slots: at most 4 calls in flight there/);
    for (let round = 0; round < 3; round++) {
      // Bursts with a pause between them, as a trainer sends: how the stall showed.
      await new Promise((r) => setTimeout(r, 300));
      const items = Array.from({ length: 64 }, (_, i) => rejected(`b${round}-${i}`, `${round}-${i}`));
      const vs = await streamAll(client, items);
      expect(vs).toHaveLength(64);
      expect(vs.filter((v) => v.llmOutcome !== LlmOutcome.TRUE).map((v) => v.llmDetail)).toEqual([]);
    }
    expect(server.stderr()).not.toMatch(/time out while others there are answered|circuit open/);
  });

  it("the engine killed and restarted mid-run: every item answered once, and the batch after it is back judged", async () => {
    const first = await llama("true", ["--alias", "zhangchenxu/TinyV-1.5B", "-np", "8"]);
    const port = first.port;
    const { client } = await tinyv(["--llm-url", first.url, "--llm-concurrency", "8"]);
    let restarted: Promise<Llama> | undefined;
    const vs = await new Promise<Verdict[]>((resolve, reject) => {
      const call = openStream(client);
      const got: Verdict[] = [];
      call.on("data", (v: Verdict) => {
        got.push(v);
        if (got.length === 30) {
          restarted = first.kill().then(async () => {
            await new Promise((r) => setTimeout(r, 500));
            return llama("true", ["--alias", "zhangchenxu/TinyV-1.5B", "-np", "8"], { port });
          });
        }
      });
      call.on("end", () => resolve(got));
      call.on("error", reject);
      for (let i = 0; i < 300; i++) call.write(rejected(`k${i}`, `k${i}`));
      call.end();
    });
    expect(vs).toHaveLength(300);
    expect(new Set(vs.map((v) => v.id)).size).toBe(300);
    // Each item has a verdict: judged, or the rule verdict with the LLM's failure said.
    for (const v of vs) {
      expect([LlmOutcome.TRUE, LlmOutcome.ERROR, LlmOutcome.TIMEOUT]).toContain(v.llmOutcome);
      if (v.llmOutcome !== LlmOutcome.TRUE) expect(v.llmDetail).not.toBe("");
    }
    const judged = vs.filter((v) => v.llmOutcome === LlmOutcome.TRUE).length;
    console.log(`killed mid-run: ${judged} of 300 judged, ${300 - judged} with the LLM's failure`);
    expect(judged).toBeGreaterThanOrEqual(30);
    const back = await (restarted as Promise<Llama>);
    await untilHealthy(`http://127.0.0.1:${back.port}`, 30_000);
    const after = await streamAll(
      client,
      Array.from({ length: 64 }, (_, i) => rejected(`after${i}`, `after${i}`)),
    );
    expect(after.filter((v) => v.llmOutcome !== LlmOutcome.TRUE).map((v) => v.llmDetail)).toEqual([]);
  });

  it("a wrong API key: the detail quotes the engine's 401 and names --llm-api-key", async () => {
    const l = await llama("true", ["--alias", "zhangchenxu/TinyV-1.5B", "--api-key", "right-key"]);
    const server = await startTinyv([...ONE_WORKER, "--llm-url", l.url, "--llm-api-key", "wrong-key"]);
    const client = grpcClient(server.grpcAddress);
    cleanups.push(async () => {
      client.close();
      await server.stop();
    });
    await untilServing(server);
    const v = await unary<Verdict>(client, "Verify", rejected("k"));
    expect(v.llmOutcome).toBe(LlmOutcome.ERROR);
    expect(v.llmDetail).toMatch(/HTTP 401 from .*Invalid API Key \(check --llm-api-key\)/);
    const good = await tinyv(["--llm-url", l.url, "--llm-api-key", "right-key"]);
    expect((await unary<Verdict>(good.client, "Verify", rejected("k2"))).llmOutcome).toBe(LlmOutcome.TRUE);
  });

  it("with logit_bias the engine returns logprobs from before the bias: no P(True), and a soft reward pays nothing", async () => {
    const l = await llama("true", ["--alias", "biased"]);
    const template = loadRegistry().get("zhangchenxu/TinyV-1.5B")?.template;
    const judges = join(dir, "biased.json");
    writeFileSync(
      judges,
      JSON.stringify({
        models: {
          biased: {
            template,
            max_completion_tokens: 1,
            extra_body: { logit_bias: { [String(tokens[" False"])]: 100 } },
          },
        },
      }),
    );
    const { client } = await tinyv([
      "--llm-url",
      l.url,
      "--llm-models",
      judges,
      "--soft-reward",
      "--mode",
      "llm_only",
    ]);
    const v = await unary<Verdict>(
      client,
      "Verify",
      rejected("b", "one half", { options: { mode: Mode.LLM_ONLY } }),
    );
    expect(v).toMatchObject({ llmOutcome: LlmOutcome.FALSE, reward: 0, correct: false });
    expect(v.pTrue).toBeUndefined();
    expect(v.llmDetail).toMatch(/P\(True\) 0\.\d+ left out: the False token was not the most likely one/);
  });
});
