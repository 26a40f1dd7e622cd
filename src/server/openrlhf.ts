import { create } from "@bufbuild/protobuf";
import {
  DecidedBy,
  LlmOutcome,
  RuleOutcome,
  type Verdict,
  VerifyBatchRequestSchema,
  VerifyRequestSchema,
} from "../gen/tinyv/v1/verifier_pb.js";
import { Code, ServiceError } from "./errors.js";
import type { VerifierServiceImpl } from "./service.js";

/**
 * OpenRLHF's remote reward protocol (`--remote_rm_url http://HOST:HTTP_PORT/openrlhf`):
 * POST {"query": [prompt + response, ...], "prompts": [...], "labels": [gold, ...]};
 * reply {"rewards": [...], "scores": [...], "extra_logs": {...}}.
 */
export async function openRlhfReward(body: unknown, impl: VerifierServiceImpl, signal?: AbortSignal) {
  const { query, prompts, labels } = parseBody(body);
  const items = query.map((q, i) => {
    const prompt = prompts[i] ?? "";
    // OpenRLHF sends prompt + response as one string; the response is what follows the prompt.
    const response = prompt && q.startsWith(prompt) ? q.slice(prompt.length) : q;
    return create(VerifyRequestSchema, {
      id: String(i),
      question: prompt,
      groundTruth: labels[i] ?? "",
      response,
    });
  });
  const { verdicts } = await impl.verifyBatch(create(VerifyBatchRequestSchema, { items }), signal);
  const rewards = verdicts.map((v) => v.reward);
  return {
    rewards,
    scores: rewards,
    extra_logs: {
      decided_by_llm: verdicts.map((v) =>
        v.decidedBy === DecidedBy.LLM || v.decidedBy === DecidedBy.CACHE ? 1 : 0,
      ),
      rule_match: verdicts.map((v) => (v.ruleOutcome === RuleOutcome.MATCH ? 1 : 0)),
      llm_failed: verdicts.map((v) => (failed(v) ? 1 : 0)),
      item_error: verdicts.map((v) => (v.error ? 1 : 0)),
    },
  };
}

function failed(v: Verdict): boolean {
  return v.llmOutcome === LlmOutcome.ERROR || v.llmOutcome === LlmOutcome.TIMEOUT;
}

function parseBody(body: unknown): { query: string[]; prompts: string[]; labels: string[] } {
  if (typeof body !== "object" || body === null)
    throw new ServiceError(Code.InvalidArgument, "expected a JSON object");
  const b = body as Record<string, unknown>;
  const strings = (name: string, required: boolean): string[] => {
    const v = b[name];
    if (v === undefined && !required) return [];
    if (!Array.isArray(v) || !v.every((s) => typeof s === "string")) {
      throw new ServiceError(Code.InvalidArgument, `"${name}" must be an array of strings`);
    }
    return v;
  };
  const query = strings("query", true);
  const labels = strings("labels", true);
  const prompts = strings("prompts", false);
  if (labels.length !== query.length) {
    throw new ServiceError(
      Code.InvalidArgument,
      `"labels" has ${labels.length} entries but "query" has ${query.length}`,
    );
  }
  if (prompts.length > 0 && prompts.length !== query.length) {
    throw new ServiceError(
      Code.InvalidArgument,
      `"prompts" has ${prompts.length} entries but "query" has ${query.length}`,
    );
  }
  return { query, prompts, labels };
}
