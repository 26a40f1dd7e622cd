import { LlmOutcome, RuleOutcome, type Verdict } from "../../gen/tinyv/v1/verifier_pb.js";
import { contentText, questionOf } from "./chat-template.js";
import { resultFields } from "./fields.js";
import { goldFromLabel } from "./label.js";
import { item, malformed, object, type Route } from "./route.js";

/**
 * A NeMo Gym resources server's `POST /verify`, in the shape of its `math_with_judge` server (Math-Verify
 * first, an LLM judge on rejection), as read from nemo-gym 0.7.0 (PyPI): resources_servers/math_with_judge/
 * app.py (`LibraryJudgeMathVerifyRequest`, `LibraryJudgeMathVerifyResponse`, `verify`),
 * nemo_gym/base_resources_server.py, nemo_gym/judge.py (`judge_failsafe`), nemo_gym/failure_kinds.py.
 *
 *   POST {"responses_create_params": {"input": [...], ...}, "response": <OpenAI Responses object>,
 *         "question": str, "expected_answer": str, ...}
 *   reply: the request echoed, plus "reward", "extracted_answer", "library_reward", "judge_evaluations"
 *
 * The answer is the text of the response's `output` items of type `message`, their `output_text` parts
 * joined, as math_with_judge reads it. `library_reward` is our rule verdict; `judge_evaluations` is null
 * (ours is no Responses-API judge). A fault is answered as `judge_failsafe` answers a judge failure:
 * the reward (0 for a bad item, the rule verdict when the LLM failed), `mask_sample` true (the trainer leaves the sample out), `failure_kind` (`verifier_error` for a
 * bad item, `judge_failed` or `judge_unparseable` when our LLM verifier gave no verdict) and
 * `failure_reason`. The numeric result fields ride along at the top level, where NeMo Gym's metrics
 * average them.
 */
export const nemoGymVerify: Route = {
  method: "NemoGymVerify",
  parse(body) {
    const b = object(body, "NeMo Gym /verify");
    const response = b.response as { output?: unknown } | undefined;
    if (typeof response !== "object" || response === null || !Array.isArray(response.output)) {
      throw malformed(
        'NeMo Gym /verify: "response" must be an OpenAI Responses object with an "output" list',
      );
    }
    const params = b.responses_create_params as { input?: unknown } | undefined;
    const question = typeof b.question === "string" ? b.question : questionOf(params?.input);
    const parsed = item(
      "0",
      goldFromLabel(b.expected_answer, "expected_answer"),
      question,
      outputText(response.output),
    );
    return {
      items: [parsed],
      reply: ([v]) => {
        if (!v) throw new Error("NeMo Gym /verify: no verdict");
        return { ...b, ...verifyFields(v), ...failure(v, b.instance_config) };
      },
    };
  },
};

function verifyFields(v: Verdict) {
  return {
    reward: v.reward,
    extracted_answer: v.extractedAnswer || null,
    library_reward: v.ruleOutcome === RuleOutcome.MATCH ? 1 : 0,
    judge_evaluations: null,
    ...resultFields(v),
  };
}

/**
 * `POST /seed_session`, which NeMo Gym's simple agent calls on the resources server before each rollout;
 * math_with_judge keeps SimpleResourcesServer's, which answers an empty object.
 */
export const nemoGymSeedSession: Route = {
  method: "NemoGymSeedSession",
  parse(body) {
    object(body, "NeMo Gym /seed_session");
    return { items: [], reply: () => ({}) };
  },
};

/** NeMo Gym's failure fields (judge_failsafe's), when the verdict is not a clean one. */
function failure(v: Verdict, instanceConfig: unknown) {
  const kind = v.error
    ? "verifier_error"
    : v.llmOutcome === LlmOutcome.ERROR || v.llmOutcome === LlmOutcome.TIMEOUT
      ? "judge_failed"
      : v.llmOutcome === LlmOutcome.UNPARSEABLE
        ? "judge_unparseable"
        : undefined;
  if (!kind) return {};
  const config = typeof instanceConfig === "object" && instanceConfig !== null ? instanceConfig : {};
  return {
    mask_sample: true,
    failure_kind: kind,
    failure_reason: (v.error?.message ?? v.llmDetail) || kind,
    // judge_failsafe also sets it here, for older NeMo RL consumers.
    instance_config: { ...config, mask_sample: true },
  };
}

/** The text math_with_judge verifies: every `output_text` part of every `message` output item. */
function outputText(output: unknown[]): string {
  return output
    .map((o) => {
      const it = o as { type?: unknown; content?: unknown } | null;
      if (it?.type !== "message" || !Array.isArray(it.content)) return "";
      return contentText(it.content.filter((c) => (c as { type?: unknown } | null)?.type === "output_text"));
    })
    .join("");
}
