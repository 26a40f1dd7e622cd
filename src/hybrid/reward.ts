import { LlmOutcome, Mode, RuleOutcome } from "../gen/tinyv/v1/verifier_pb.js";

export interface RewardInput {
  mode: Mode;
  weight: number;
  rule: RuleOutcome;
  /** The LLM's verdict; ERROR/TIMEOUT/UNPARSEABLE/NOT_CONFIGURED mean "no usable verdict". */
  llm: LlmOutcome;
  /** P(True) when known and a soft reward is wanted. */
  soft?: number;
}

export interface Reward {
  reward: number;
  correct: boolean;
  /** Whether the LLM's verdict entered the reward (else the rules alone decided). */
  llmDecided: boolean;
}

/** Whether a mode asks the LLM, given the rule outcome. */
export function wantsLlm(mode: Mode, rule: RuleOutcome): boolean {
  switch (mode) {
    case Mode.ADDON:
      return rule !== RuleOutcome.MATCH;
    case Mode.LLM_ONLY:
    case Mode.MIXED:
      return true;
    default:
      return false;
  }
}

/**
 * The reward formula of DESIGN "Semantics". Without a usable LLM verdict the
 * rule verdict stands, whatever the mode, so a failed LLM is never a silent 0.
 */
export function reward({ mode, weight, rule, llm, soft }: RewardInput): Reward {
  const ruleScore = rule === RuleOutcome.MATCH ? 1 : 0;
  const usable = llm === LlmOutcome.TRUE || llm === LlmOutcome.FALSE;
  if (!usable || mode === Mode.RULES_ONLY || (mode === Mode.ADDON && ruleScore === 1)) {
    return { reward: ruleScore, correct: ruleScore === 1, llmDecided: false };
  }
  const llmScore = soft ?? (llm === LlmOutcome.TRUE ? 1 : 0);
  const llmTrue = llm === LlmOutcome.TRUE;
  switch (mode) {
    case Mode.MIXED: {
      const r = weight * llmScore + (1 - weight) * ruleScore;
      return { reward: r, correct: r >= 0.5, llmDecided: true };
    }
    case Mode.LLM_ONLY:
      return { reward: llmScore, correct: llmTrue, llmDecided: true };
    default:
      return { reward: weight * llmScore, correct: llmTrue, llmDecided: true };
  }
}
