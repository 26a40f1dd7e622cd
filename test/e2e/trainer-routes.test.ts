import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { FakeVllm } from "../support/fake-vllm.js";
import { startTinyv, type Tinyv } from "../support/tinyv.js";

// The trainer routes of the HTTP port (OpenRLHF, slime, NeMo Gym), over real sockets against `tinyv serve`.

type Json = Record<string, unknown>;
const RESULT_KEYS = ["score", "acc", "rule_match", "llm_asked", "llm_decided", "llm_failed", "item_error"];

async function post(base: string, path: string, body: unknown, headers: Record<string, string> = {}) {
  const res = await fetch(`${base}${path}`, {
    method: "POST",
    headers: { "content-type": "application/json", ...headers },
    body: typeof body === "string" ? body : JSON.stringify(body),
  });
  return { status: res.status, body: (await res.json()) as Json };
}

/** Prompts as trainers build them with `apply_chat_template(..., add_generation_prompt=True)`. */
const TEMPLATES = {
  chatml: {
    prompt: (q: string) =>
      `<|im_start|>system\nPlease reason step by step.<|im_end|>\n<|im_start|>user\n${q}<|im_end|>\n<|im_start|>assistant\n`,
    eos: "<|im_end|>",
  },
  llama3: {
    prompt: (q: string) =>
      `<|begin_of_text|><|start_header_id|>system<|end_header_id|>\n\nBe brief.<|eot_id|><|start_header_id|>user<|end_header_id|>\n\n${q}<|eot_id|><|start_header_id|>assistant<|end_header_id|>\n\n`,
    eos: "<|eot_id|>",
  },
  plain: { prompt: (q: string) => `Question: ${q}\nAnswer:`, eos: "</s>" },
  base: { prompt: (q: string) => q, eos: "<|endoftext|>" },
};

const NEMO_RESPONSE = (text: string) => ({
  id: "resp_1",
  created_at: 1.0,
  model: "policy",
  object: "response",
  output: [
    { id: "rs_1", type: "reasoning", summary: [{ type: "summary_text", text: "\\boxed{999}" }] },
    {
      id: "msg_1",
      type: "message",
      role: "assistant",
      status: "completed",
      content: [{ type: "output_text", text, annotations: [] }],
    },
  ],
  parallel_tool_calls: false,
  tool_choice: "none",
  tools: [],
});
const nemoBody = (text: string, expected: unknown, extra: Json = {}) => ({
  responses_create_params: { input: [{ role: "user", content: "What is 2 + 2?" }] },
  response: NEMO_RESPONSE(text),
  question: "What is 2 + 2?",
  expected_answer: expected,
  ...extra,
});

describe("trainer routes, rules only", () => {
  let server: Tinyv;
  beforeAll(async () => {
    server = await startTinyv(["--max-item-bytes", "4096", "--max-batch-items", "16"]);
  });
  afterAll(async () => {
    expect(await server.stop()).toBe(0);
  });

  describe("OpenRLHF (/openrlhf and /get_reward)", () => {
    for (const path of ["/openrlhf", "/get_reward"]) {
      for (const [name, t] of Object.entries(TEMPLATES)) {
        it(`${path}: cuts the response out of a ${name} query, right and wrong`, async () => {
          const prompt = t.prompt("What is 1 + 2?");
          const { status, body } = await post(server.httpUrl, path, {
            query: [`${prompt}The answer is 3.${t.eos}`, `${prompt}Surely \\boxed{4}${t.eos}`],
            prompts: [prompt, prompt],
            labels: ["3", "3"],
          });
          expect(status).toBe(200);
          expect(body.rewards).toEqual([1, 0]);
          expect(body.scores).toEqual([1, 0]);
          const logs = body.extra_logs as Record<string, number[]>;
          expect(Object.keys(logs)).toEqual(RESULT_KEYS);
          expect(logs).toMatchObject({
            rule_match: [1, 0],
            acc: [1, 0],
            item_error: [0, 0],
            llm_asked: [0, 0],
          });
        });
      }
    }

    it("finds the response after the last assistant turn when the query does not start with the prompt", async () => {
      // OpenRLHF truncates a long prompt on the left before generating; the query then lacks its start.
      const prompt = TEMPLATES.chatml.prompt("What is 6 times 7?");
      const query = `${prompt.slice(40)}The product is 42.<|im_end|>`;
      const { body } = await post(server.httpUrl, "/openrlhf", {
        query: [query],
        prompts: [prompt],
        labels: [42],
      });
      expect(body.rewards).toEqual([1]);
    });

    it("takes labels of every JSON scalar type, and a dict label with its question", async () => {
      const labels = [
        7,
        2.5,
        -3,
        true,
        "\\frac{1}{2}",
        { answer: 12, question: "What is 3 * 4?" },
        { solution: "x+1" },
      ];
      const answers = ["7", "2.5", "-3", "True", "0.5", "12", "1+x"];
      const wrong = ["8", "2.4", "3", "False", "0.25", "13", "x-1"];
      const query = [...answers, ...wrong].map((a) => `\\boxed{${a}}`);
      const { status, body } = await post(server.httpUrl, "/openrlhf", {
        query,
        labels: [...labels, ...labels],
      });
      expect(status).toBe(200);
      expect(body.rewards).toEqual([...answers.map(() => 1), ...wrong.map(() => 0)]);
      expect((body.extra_logs as Json).item_error).toEqual(query.map(() => 0));
    });

    it("answers a bad label with that item's error (200, score 0), never losing the others", async () => {
      const labels = [null, "", "  ", [1, 2], { foo: 1 }, 2 ** 60, "5"];
      const query = labels.map(() => "\\boxed{5}");
      const { status, body } = await post(server.httpUrl, "/openrlhf", { query, labels });
      expect(status).toBe(200);
      expect(body.rewards).toEqual([0, 0, 0, 0, 0, 0, 1]);
      expect((body.extra_logs as Json).item_error).toEqual([1, 1, 1, 1, 1, 1, 0]);
      const metrics = await (await fetch(`${server.httpUrl}/metrics`)).text();
      expect(metrics).toMatch(/tinyv_item_errors_total\{code="INVALID_ARGUMENT"\} [6-9]/);
    });

    it("answers an oversized response as an item error, not a failed call", async () => {
      const { status, body } = await post(server.httpUrl, "/openrlhf", {
        query: [`${"x".repeat(5000)} \\boxed{1}`, "\\boxed{1}"],
        labels: ["1", "1"],
      });
      expect(status).toBe(200);
      expect(body.rewards).toEqual([0, 1]);
      expect((body.extra_logs as Json).item_error).toEqual([1, 0]);
    });

    it("answers an empty list with empty lists", async () => {
      const { status, body } = await post(server.httpUrl, "/openrlhf", {
        query: [],
        prompts: [],
        labels: [],
      });
      expect(status).toBe(200);
      expect(body).toEqual({
        rewards: [],
        scores: [],
        extra_logs: Object.fromEntries(RESULT_KEYS.map((k) => [k, []])),
      });
    });

    it("rejects a malformed body with 400 and a message naming the field", async () => {
      const cases: [unknown, RegExp][] = [
        ["{not json", /not JSON/],
        [[1, 2], /JSON object/],
        [{ query: ["a"] }, /"labels" must be an array/],
        [{ query: "a", labels: ["1"] }, /"query" must be an array of strings/],
        [{ query: [1], labels: ["1"] }, /"query" must be an array of strings/],
        [{ query: ["a", "b"], labels: ["1"] }, /"labels" has 1 entries but "query" has 2/],
        [{ query: ["a"], labels: ["1"], prompts: ["p", "q"] }, /"prompts" has 2 entries/],
        [{ query: Array(17).fill("a"), labels: Array(17).fill("1") }, /limit is 16/],
      ];
      for (const [body, message] of cases) {
        const res = await post(server.httpUrl, "/openrlhf", body);
        expect(res.status, JSON.stringify(body)).toBe(400);
        expect(res.body.error).toMatch(message);
      }
    });
  });

  describe("slime (/slime)", () => {
    it("scores a chat-templated prompt's response, right and wrong, in an object read with --reward-key score", async () => {
      const prompt = TEMPLATES.chatml.prompt("What is 1 + 2?");
      const right = await post(server.httpUrl, "/slime", {
        prompt,
        response: "It is \\boxed{3}.<|im_end|>",
        label: "3",
      });
      expect(right.status).toBe(200);
      expect(right.body).toMatchObject({
        score: 1,
        acc: 1,
        rule_match: 1,
        item_error: 0,
        decided_by: "rules",
      });
      expect(right.body.extracted_answer).toBe("3");
      const wrong = await post(server.httpUrl, "/slime", {
        prompt,
        response: "It is \\boxed{4}.",
        label: "3",
      });
      expect(wrong.body).toMatchObject({ score: 0, acc: 0, rule_match: 0, item_error: 0 });
      for (const k of RESULT_KEYS) expect(typeof wrong.body[k]).toBe("number");
    });

    it("takes a prompt as a list of messages, and labels of any scalar type", async () => {
      const prompt = [{ role: "user", content: [{ type: "text", text: "Half of one?" }] }];
      for (const [label, response, score] of [
        [0.5, "\\boxed{\\frac12}", 1],
        [2, "\\boxed{2}", 1],
        [2, "\\boxed{3}", 0],
        [false, "\\boxed{False}", 1],
        [{ ground_truth: "9" }, "\\boxed{9}", 1],
      ] as const) {
        const { status, body } = await post(server.httpUrl, "/slime", { prompt, response, label });
        expect(status).toBe(200);
        expect(body.score, JSON.stringify(label)).toBe(score);
      }
    });

    it("answers a null or missing label with score 0, item_error 1 and the reason (200)", async () => {
      for (const body of [
        { prompt: "q", response: "\\boxed{1}", label: null },
        { prompt: "q", response: "\\boxed{1}" },
      ]) {
        const res = await post(server.httpUrl, "/slime", body);
        expect(res.status).toBe(200);
        expect(res.body).toMatchObject({ score: 0, item_error: 1, decided_by: "error" });
        expect(res.body.error).toMatch(/label is (null|missing)/);
      }
    });

    it("rejects a malformed body with 400", async () => {
      for (const [body, message] of [
        [{ prompt: "q", label: "1" }, /"response" must be a string/],
        [{ prompt: 5, response: "x", label: "1" }, /"prompt" must be a string or a list/],
        ["[]", /JSON object/],
      ] as const) {
        const res = await post(server.httpUrl, "/slime", body);
        expect(res.status).toBe(400);
        expect(res.body.error).toMatch(message);
      }
    });
  });

  describe("NeMo Gym (/verify)", () => {
    it("answers math_with_judge's verify reply: the request echoed, reward, extracted_answer, library_reward", async () => {
      const req = nemoBody("So the answer is \\boxed{4}.", "4", { agent_ref: { name: "math_simple_agent" } });
      const { status, body } = await post(server.httpUrl, "/verify", req);
      expect(status).toBe(200);
      expect(body).toMatchObject({
        ...req,
        reward: 1,
        extracted_answer: "4",
        library_reward: 1,
        judge_evaluations: null,
        score: 1,
        acc: 1,
        item_error: 0,
      });
      expect(body.mask_sample).toBeUndefined();
      const wrong = await post(server.httpUrl, "/verify", nemoBody("It is \\boxed{5}.", "4"));
      expect(wrong.body).toMatchObject({ reward: 0, extracted_answer: "5", library_reward: 0 });
    });

    it("reads only output_text of message items (not reasoning), and a numeric expected_answer", async () => {
      const { body } = await post(server.httpUrl, "/verify", nemoBody("The final answer is 999.", 4));
      expect(body.reward).toBe(0);
      const right = await post(server.httpUrl, "/verify", nemoBody("\\boxed{4}", 4));
      expect(right.body.reward).toBe(1);
    });

    it("answers a missing expected_answer as judge_failsafe does: reward 0, mask_sample, failure_kind", async () => {
      const req = nemoBody("\\boxed{4}", undefined, { instance_config: { seed: 1 } });
      const { status, body } = await post(server.httpUrl, "/verify", req);
      expect(status).toBe(200);
      expect(body).toMatchObject({
        reward: 0,
        item_error: 1,
        mask_sample: true,
        failure_kind: "verifier_error",
        instance_config: { seed: 1, mask_sample: true },
      });
      expect(body.failure_reason).toMatch(/expected_answer is missing/);
    });

    it("answers /seed_session, which NeMo Gym's simple agent calls first, with an empty object", async () => {
      const { status, body } = await post(server.httpUrl, "/seed_session", nemoBody("", "4"));
      expect(status).toBe(200);
      expect(body).toEqual({});
    });

    it("rejects a body without a Responses object with 400", async () => {
      for (const body of [{ expected_answer: "4" }, { expected_answer: "4", response: { output: "x" } }]) {
        const res = await post(server.httpUrl, "/verify", body);
        expect(res.status).toBe(400);
        expect(res.body.error).toMatch(/"response" must be an OpenAI Responses object/);
      }
    });
  });

  it("counts each route's calls in tinyv_rpcs_total, and answers GET with 405", async () => {
    const metrics = await (await fetch(`${server.httpUrl}/metrics`)).text();
    for (const method of ["OpenRLHF", "Slime", "NemoGymVerify"]) {
      expect(metrics).toMatch(new RegExp(`tinyv_rpcs_total\\{method="${method}",transport="http"\\} [1-9]`));
    }
    for (const path of ["/openrlhf", "/get_reward", "/slime", "/verify"]) {
      expect((await fetch(`${server.httpUrl}${path}`)).status).toBe(405);
    }
  });
});

describe("trainer routes with the LLM verifier (vLLM stand-in)", () => {
  let llm: FakeVllm;
  let server: Tinyv;
  beforeAll(async () => {
    llm = await FakeVllm.start({
      fixtures: {
        "one half": "True",
        "0.6": "False",
        garbled: "Perhaps",
        down: { status: 500, message: "CUDA OOM" },
      },
    });
    server = await startTinyv(["--llm-url", llm.url, "--llm-retries", "0"]);
  });
  afterAll(async () => {
    await server?.stop();
    await llm?.stop();
  });

  const CASES = [
    { answer: "0.5", score: 1, fields: { rule_match: 1, llm_asked: 0, llm_decided: 0, llm_failed: 0 } },
    { answer: "one half", score: 1, fields: { rule_match: 0, llm_asked: 1, llm_decided: 1, llm_failed: 0 } },
    { answer: "0.6", score: 0, fields: { rule_match: 0, llm_asked: 1, llm_decided: 1, llm_failed: 0 } },
    { answer: "garbled", score: 0, fields: { rule_match: 0, llm_asked: 1, llm_decided: 0, llm_failed: 1 } },
    { answer: "down", score: 0, fields: { rule_match: 0, llm_asked: 1, llm_decided: 0, llm_failed: 1 } },
  ];

  it("OpenRLHF: the judge sees the question recovered from the chat template; extra_logs say who decided", async () => {
    const prompt = TEMPLATES.llama3.prompt("Simplify 2/4.");
    const { status, body } = await post(server.httpUrl, "/openrlhf", {
      query: CASES.map((c) => `${prompt}Thus \\boxed{${c.answer}}<|eot_id|>`),
      prompts: CASES.map(() => prompt),
      labels: CASES.map(() => "\\frac{1}{2}"),
    });
    expect(status).toBe(200);
    expect(body.rewards).toEqual(CASES.map((c) => c.score));
    const logs = body.extra_logs as Record<string, number[]>;
    for (const k of ["rule_match", "llm_asked", "llm_decided", "llm_failed"] as const) {
      expect(logs[k], k).toEqual(CASES.map((c) => c.fields[k]));
    }
    const asked = llm.requests.find((r) => r.answer === "one half");
    expect(asked?.question).toBe("Simplify 2/4.");
  });

  it("slime: the same fields; a failed judge is llm_failed with the rule verdict, still 200", async () => {
    for (const c of CASES) {
      const { status, body } = await post(server.httpUrl, "/slime", {
        prompt: [{ role: "user", content: "Simplify 2/4." }],
        response: `\\boxed{${c.answer}}`,
        label: "\\frac{1}{2}",
      });
      expect(status).toBe(200);
      expect(body, c.answer).toMatchObject({ score: c.score, item_error: 0, ...c.fields });
    }
  });

  it("NeMo Gym: a judge failure is masked as judge_failsafe masks it; an unparseable verdict is judge_unparseable", async () => {
    const kinds: Record<string, string | undefined> = { garbled: "judge_unparseable", down: "judge_failed" };
    for (const c of CASES) {
      const { status, body } = await post(
        server.httpUrl,
        "/verify",
        nemoBody(`\\boxed{${c.answer}}`, "\\frac{1}{2}"),
      );
      expect(status).toBe(200);
      expect(body, c.answer).toMatchObject({ reward: c.score, ...c.fields });
      expect(body.failure_kind).toBe(kinds[c.answer]);
      expect(body.mask_sample).toBe(kinds[c.answer] ? true : undefined);
    }
    const down = await post(server.httpUrl, "/verify", nemoBody("\\boxed{down}", "\\frac{1}{2}"));
    expect(down.body.failure_reason).toMatch(/HTTP 500.*CUDA OOM/);
  });
});

describe("trainer routes with --auth-token", () => {
  let server: Tinyv;
  beforeAll(async () => {
    server = await startTinyv(["--auth-token", "s3cret"]);
  });
  afterAll(async () => {
    await server?.stop();
  });

  it("every route wants the bearer token", async () => {
    const bodies: Record<string, unknown> = {
      "/openrlhf": { query: ["\\boxed{1}"], labels: ["1"] },
      "/get_reward": { query: ["\\boxed{1}"], labels: ["1"] },
      "/slime": { prompt: "q", response: "\\boxed{1}", label: "1" },
      "/verify": nemoBody("\\boxed{1}", "1"),
    };
    for (const [path, body] of Object.entries(bodies)) {
      expect((await post(server.httpUrl, path, body)).status, path).toBe(401);
      const ok = await post(server.httpUrl, path, body, { authorization: "Bearer s3cret" });
      expect(ok.status, path).toBe(200);
    }
  });
});
