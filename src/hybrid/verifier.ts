import { performance } from "node:perf_hooks";
import { create } from "@bufbuild/protobuf";
import {
  DecidedBy,
  ErrorCode,
  LlmOutcome,
  Mode,
  RuleOutcome,
  TimingsSchema,
  type Verdict,
  VerdictSchema,
  type VerifyOptions,
  type VerifyRequest,
} from "../gen/tinyv/v1/verifier_pb.js";
import type { Judge, JudgeResult } from "../llm/types.js";
import type { RuleCheck } from "../rules/pool.js";
import type { RuleOutcomeName } from "../rules/types.js";
import { reward, wantsLlm } from "./reward.js";
import { type ItemLimits, mergeOptions, validateItem } from "./validate.js";

/** Where the rule verdicts come from (the worker pool in the server, the same pool in the CLI). */
export interface RuleChecker {
  /** `question` ("" when unknown) lets the rules refuse an answer that only restates it. */
  check(gold: string, response: string, question?: string): Promise<RuleCheck>;
}

export interface HybridSettings extends ItemLimits {
  defaultMode: Mode;
  llmWeight: number;
  softReward: boolean;
  /** "fail": an LLM failure fails the item instead of falling back to the rule verdict. */
  llmFailure: "fallback" | "fail";
  /** When nothing was extracted, send this many trailing chars of the response to the LLM (0: none). */
  llmTailChars: number;
  /** "reject": an answer that copies the question's expression back unevaluated is a mismatch. */
  restatedAnswers: "reject" | "accept";
}

/** Observes each finished verdict (metrics). */
export type VerdictObserver = (v: Verdict) => void;

const RULE_OUTCOMES: Record<RuleOutcomeName, RuleOutcome> = {
  match: RuleOutcome.MATCH,
  mismatch: RuleOutcome.MISMATCH,
  no_answer: RuleOutcome.NO_ANSWER,
  unparseable: RuleOutcome.UNPARSEABLE,
  over_budget: RuleOutcome.OVER_BUDGET,
};

const LLM_OUTCOMES: Record<JudgeResult["outcome"], LlmOutcome> = {
  true: LlmOutcome.TRUE,
  false: LlmOutcome.FALSE,
  unparseable: LlmOutcome.UNPARSEABLE,
  error: LlmOutcome.ERROR,
  timeout: LlmOutcome.TIMEOUT,
};

/** The hybrid verifier of TinyV: rules first, the LLM judge when the mode wants it. */
export class HybridVerifier {
  constructor(
    private readonly rules: RuleChecker,
    private readonly judge: Judge | undefined,
    readonly settings: HybridSettings,
    private readonly observe: VerdictObserver = () => {},
  ) {}

  async verify(req: VerifyRequest, batchOptions?: VerifyOptions, signal?: AbortSignal): Promise<Verdict> {
    const t0 = performance.now();
    const options = mergeOptions(req.options, batchOptions);
    const problem = validateItem(req, options, this.settings);
    if (problem) return this.finish(errorVerdict(req.id, problem.code, problem.message), t0);

    const mode = options?.mode || this.settings.defaultMode;
    const weight = options?.llmWeight ?? this.settings.llmWeight;
    const soft = options?.softReward ?? this.settings.softReward;

    const question = this.settings.restatedAnswers === "reject" ? req.question : "";
    const rule = await this.rules.check(req.groundTruth, req.response, question);
    const ruleOutcome = RULE_OUTCOMES[rule.outcome];
    const verdict = create(VerdictSchema, {
      id: req.id,
      mode,
      extractedAnswer: rule.extracted,
      ruleOutcome,
      llmOutcome: LlmOutcome.NOT_ASKED,
      timings: { rulesMs: rule.ms },
    });

    let judged: JudgeResult | undefined;
    if (wantsLlm(mode, ruleOutcome)) {
      const answer = rule.extracted || tail(req.response, this.settings.llmTailChars);
      if (!this.judge) {
        verdict.llmOutcome = LlmOutcome.NOT_CONFIGURED;
        verdict.llmDetail = "no LLM backend configured (--llm-url)";
      } else if (!answer) {
        verdict.llmDetail = "no answer extracted to send to the LLM (see --llm-tail-chars)";
      } else if (rule.clipped) {
        verdict.llmDetail = "answer too long to judge: not sent to the LLM";
      } else if (signal?.aborted) {
        return this.finish(
          errorVerdict(req.id, ErrorCode.CANCELLED, "cancelled before the LLM was asked"),
          t0,
        );
      } else {
        judged = await this.judge.judge(
          { question: req.question, groundTruth: req.groundTruth, answer },
          signal,
        );
        verdict.llmOutcome = LLM_OUTCOMES[judged.outcome];
        verdict.llmDetail = judged.detail ?? "";
        if (judged.pTrue !== undefined) verdict.pTrue = judged.pTrue;
        if (verdict.timings) verdict.timings.llmMs = judged.cached ? 0 : judged.ms;
      }
    }

    const failedLlm =
      judged !== undefined &&
      verdict.llmOutcome !== LlmOutcome.TRUE &&
      verdict.llmOutcome !== LlmOutcome.FALSE;
    if (failedLlm && this.settings.llmFailure === "fail") {
      const why = `LLM verifier ${LlmOutcome[verdict.llmOutcome]}: ${verdict.llmDetail}`;
      return this.finish(errorVerdict(req.id, ErrorCode.LLM_FAILED, why, verdict), t0);
    }
    const r = reward({
      mode,
      weight,
      rule: ruleOutcome,
      llm: verdict.llmOutcome,
      soft: soft ? verdict.pTrue : undefined,
    });
    verdict.reward = r.reward;
    verdict.correct = r.correct;
    verdict.decidedBy = !r.llmDecided ? DecidedBy.RULES : judged?.cached ? DecidedBy.CACHE : DecidedBy.LLM;
    return this.finish(verdict, t0);
  }

  private finish(v: Verdict, t0: number): Verdict {
    v.timings ??= create(TimingsSchema);
    v.timings.totalMs = performance.now() - t0;
    this.observe(v);
    return v;
  }
}

/** A verdict for an item that could not be verified: reward 0, and `error` says why. */
export function errorVerdict(id: string, code: ErrorCode, message: string, partial?: Verdict): Verdict {
  return create(VerdictSchema, {
    id,
    mode: partial?.mode ?? Mode.UNSPECIFIED,
    extractedAnswer: partial?.extractedAnswer ?? "",
    ruleOutcome: partial?.ruleOutcome ?? RuleOutcome.UNSPECIFIED,
    llmOutcome: partial?.llmOutcome ?? LlmOutcome.UNSPECIFIED,
    llmDetail: partial?.llmDetail ?? "",
    timings: partial?.timings ?? {},
    error: { code, message },
  });
}

function tail(text: string, chars: number): string {
  return chars > 0 ? text.slice(-chars).trim() : "";
}
