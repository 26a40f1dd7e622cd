import { DecidedBy, LlmOutcome, RuleOutcome, type Verdict } from "../../gen/tinyv/v1/verifier_pb.js";

/**
 * The numeric result fields every trainer route returns (OpenRLHF's `extra_logs`, slime's reward dict,
 * NeMo Gym's verify reply), with the same keys as the Python SDK's adapters, so a dashboard reads the same
 * names whatever the trainer. Each is 0 or 1 per sample except `score`; a mean over a batch is a rate.
 */
export const RESULT_KEYS = [
  "score", // the reward
  "acc", // judged correct
  "rule_match", // the rules accepted
  "llm_asked", // the LLM verifier was asked (the rules rejected, in addon mode)
  "llm_decided", // the LLM's verdict (or a cached one) decided
  "llm_failed", // asked, but no TRUE/FALSE: ERROR, TIMEOUT or UNPARSEABLE
  "item_error", // the item could not be verified (bad input, internal fault); the score is 0
] as const;

export type ResultFields = Record<(typeof RESULT_KEYS)[number], number>;

const ASKED_NOT = new Set([LlmOutcome.UNSPECIFIED, LlmOutcome.NOT_ASKED, LlmOutcome.NOT_CONFIGURED]);
const FAILED = new Set([LlmOutcome.ERROR, LlmOutcome.TIMEOUT, LlmOutcome.UNPARSEABLE]);

export function resultFields(v: Verdict): ResultFields {
  return {
    score: v.reward,
    acc: v.correct ? 1 : 0,
    rule_match: v.ruleOutcome === RuleOutcome.MATCH ? 1 : 0,
    llm_asked: ASKED_NOT.has(v.llmOutcome) ? 0 : 1,
    llm_decided: v.decidedBy === DecidedBy.LLM || v.decidedBy === DecidedBy.CACHE ? 1 : 0,
    llm_failed: FAILED.has(v.llmOutcome) ? 1 : 0,
    item_error: v.error ? 1 : 0,
  };
}

/** Who decided, in one word: `rules`, `llm`, `cache`, or `error` for an item error. */
export function decidedBy(v: Verdict): string {
  if (v.error) return "error";
  if (v.decidedBy === DecidedBy.LLM) return "llm";
  if (v.decidedBy === DecidedBy.CACHE) return "cache";
  return "rules";
}
