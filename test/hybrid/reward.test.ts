import { describe, expect, it } from "vitest";
import { LlmOutcome, Mode, RuleOutcome } from "../../src/gen/tinyv/v1/verifier_pb.js";
import { reward, wantsLlm } from "../../src/hybrid/reward.js";

const { MATCH, MISMATCH, NO_ANSWER } = RuleOutcome;

describe("reward formula (DESIGN: Semantics)", () => {
  it("ADDON: a rule accept is 1 without the LLM; a reject is weight x LLM verdict", () => {
    expect(wantsLlm(Mode.ADDON, MATCH)).toBe(false);
    expect(wantsLlm(Mode.ADDON, MISMATCH)).toBe(true);
    expect(wantsLlm(Mode.ADDON, NO_ANSWER)).toBe(true);
    expect(reward({ mode: Mode.ADDON, weight: 1, rule: MATCH, llm: LlmOutcome.NOT_ASKED })).toEqual({
      reward: 1,
      correct: true,
      llmDecided: false,
    });
    expect(
      reward({ mode: Mode.ADDON, weight: 0.8, rule: MISMATCH, llm: LlmOutcome.TRUE }).reward,
    ).toBeCloseTo(0.8);
    expect(reward({ mode: Mode.ADDON, weight: 1, rule: MISMATCH, llm: LlmOutcome.FALSE }).reward).toBe(0);
  });

  it("LLM_ONLY: the LLM verdict alone, even against a rule accept", () => {
    expect(wantsLlm(Mode.LLM_ONLY, MATCH)).toBe(true);
    expect(reward({ mode: Mode.LLM_ONLY, weight: 0.3, rule: MATCH, llm: LlmOutcome.FALSE })).toMatchObject({
      reward: 0,
      correct: false,
    });
    expect(reward({ mode: Mode.LLM_ONLY, weight: 0.3, rule: MISMATCH, llm: LlmOutcome.TRUE }).reward).toBe(1);
  });

  it("MIXED: weight x LLM + (1 - weight) x rules", () => {
    const r = reward({ mode: Mode.MIXED, weight: 0.25, rule: MATCH, llm: LlmOutcome.FALSE });
    expect(r.reward).toBeCloseTo(0.75);
    expect(r.correct).toBe(true);
    expect(reward({ mode: Mode.MIXED, weight: 0.75, rule: MATCH, llm: LlmOutcome.FALSE }).correct).toBe(
      false,
    );
  });

  it("RULES_ONLY never asks the LLM", () => {
    expect(wantsLlm(Mode.RULES_ONLY, MISMATCH)).toBe(false);
    expect(
      reward({ mode: Mode.RULES_ONLY, weight: 1, rule: MISMATCH, llm: LlmOutcome.NOT_ASKED }).reward,
    ).toBe(0);
  });

  it("falls back to the rule verdict when the LLM gave no usable verdict, in every mode", () => {
    for (const mode of [Mode.ADDON, Mode.LLM_ONLY, Mode.MIXED]) {
      for (const llm of [
        LlmOutcome.ERROR,
        LlmOutcome.TIMEOUT,
        LlmOutcome.UNPARSEABLE,
        LlmOutcome.NOT_CONFIGURED,
      ]) {
        expect(reward({ mode, weight: 0.5, rule: MATCH, llm })).toEqual({
          reward: 1,
          correct: true,
          llmDecided: false,
        });
        expect(reward({ mode, weight: 0.5, rule: MISMATCH, llm })).toEqual({
          reward: 0,
          correct: false,
          llmDecided: false,
        });
      }
    }
  });

  it("uses P(True) as a soft reward when given", () => {
    expect(
      reward({ mode: Mode.ADDON, weight: 1, rule: MISMATCH, llm: LlmOutcome.TRUE, soft: 0.9 }).reward,
    ).toBeCloseTo(0.9);
    expect(
      reward({ mode: Mode.MIXED, weight: 0.5, rule: MISMATCH, llm: LlmOutcome.FALSE, soft: 0.2 }).reward,
    ).toBeCloseTo(0.1);
  });
});
