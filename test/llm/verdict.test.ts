import { describe, expect, it } from "vitest";
import { pTrueFrom, readVerdict, sampledIsTop, type TokenLogprob } from "../../src/llm/verdict.js";
import { profileOf } from "./profiles.js";

const plain = profileOf("zhangchenxu/TinyV-1.5B");
const think = profileOf("zhangchenxu/TinyV-Qwen3-1.7B-Think");

describe("readVerdict", () => {
  it.each([
    ["True", "true"],
    ["False", "false"],
    [" true.", "true"],
    ["**False**", "false"],
    ['"True"', "true"],
    ["The answer is True", "true"],
    ["False, it is not true", "false"],
  ])("plain model: %j reads %s", (text, outcome) => {
    expect(readVerdict(plain, text).outcome).toBe(outcome);
  });

  it.each([
    "Maybe",
    "",
    "Truthfully unsure",
    "It is true and false",
    "TrueL\u0004[[% True",
    "Truee",
    "True\u0000",
  ])("plain model: %j is unparseable", (text) => {
    const v = readVerdict(plain, text);
    expect(v.outcome).toBe("unparseable");
    expect(v.detail).toMatch(/True|False|control characters/);
  });

  it("a think model reads after the last </think> or Answer:", () => {
    expect(readVerdict(think, "<think>is it True? no</think>\n\nFalse").outcome).toBe("false");
    expect(readVerdict(think, "Reasoning: False at first, but equal.\nAnswer: True").outcome).toBe("true");
    expect(readVerdict(think, "<think>Answer: False?</think> Answer: True").outcome).toBe("true");
  });

  it("a think model without a marker is unparseable unless the server split the reasoning out", () => {
    expect(readVerdict(think, "<think>still thinking, True maybe").outcome).toBe("unparseable");
    expect(readVerdict(think, "True", true).outcome).toBe("true");
  });

  it("reads custom verdict words", () => {
    const p = { answerAfter: ["Final Decision:"], trueWords: ["Yes"], falseWords: ["No"] };
    expect(readVerdict(p, "blah Final Decision: Yes").outcome).toBe("true");
    expect(readVerdict(p, "blah Final Decision: no").outcome).toBe("false");
  });
});

const tok = (token: string, top: [string, number][] = []): TokenLogprob => ({
  token,
  logprob: Math.log(top.find(([t]) => t === token)?.[1] ?? 1),
  top_logprobs: top.map(([t, p]) => ({ token: t, logprob: Math.log(p) })),
});

describe("pTrueFrom", () => {
  it("normalises True against False at the first verdict token, merging spellings", () => {
    const p = pTrueFrom(plain, [
      tok("True", [
        ["True", 0.6],
        [" True", 0.1],
        ["False", 0.2],
        ["The", 0.1],
      ]),
    ]);
    expect(p).toBeCloseTo(0.7 / 0.9, 10);
  });

  it("finds the verdict token after the think marker and leading space", () => {
    const tokens = [
      tok("<think>"),
      tok("True"),
      tok("?"),
      tok("</think>"),
      tok("\n\n"),
      tok("False", [
        ["False", 0.75],
        ["True", 0.25],
      ]),
    ];
    expect(pTrueFrom(think, tokens)).toBeCloseTo(0.25, 10);
  });

  it("counts the sampled token when the top list omits it", () => {
    const t = {
      token: "True",
      logprob: Math.log(0.3),
      top_logprobs: [{ token: "False", logprob: Math.log(0.1) }],
    };
    expect(pTrueFrom(plain, [t])).toBeCloseTo(0.75, 10);
  });

  it("counts leading pieces of a verdict word only where the sampled token is such a piece", () => {
    const whole = tok(" True", [
      [" True", 0.5],
      ["Fa", 0.3],
      [" False", 0.2],
    ]);
    expect(pTrueFrom(plain, [whole])).toBeCloseTo(0.5 / 0.7, 10);
    const piece = tok("Tr", [
      ["Tr", 0.6],
      ["Fa", 0.4],
    ]);
    expect(pTrueFrom(plain, [piece, tok("ue")])).toBeCloseTo(0.6, 10);
  });

  it("sampledIsTop: false when the sampled verdict token is not the most likely (logprobs before a constraint)", () => {
    const constrained = tok(" False", [
      [" True", 0.62],
      [" False", 0.28],
    ]);
    expect(sampledIsTop(plain, [constrained])).toBe(false);
    const greedy = tok(" False", [
      [" False", 0.7],
      [" True", 0.2],
    ]);
    expect(sampledIsTop(plain, [greedy])).toBe(true);
  });

  it("is undefined when no alternative is True or False, or the marker is missing", () => {
    expect(pTrueFrom(plain, [tok("Maybe", [["Maybe", 0.9]])])).toBeUndefined();
    expect(pTrueFrom(think, [tok("True", [["True", 0.9]])])).toBeUndefined();
    expect(pTrueFrom(plain, [])).toBeUndefined();
  });
});
