import { describe, expect, it } from "vitest";
import { extractAnswer, lastBoxed } from "../../src/rules/extract.js";

describe("extract", () => {
  it("takes the last box with nested braces", () => {
    expect(lastBoxed("\\boxed{1} then \\boxed{\\frac{a}{\\sqrt{b}}}")).toBe("\\frac{a}{\\sqrt{b}}");
    expect(lastBoxed("\\fbox{x^{2}}")).toBe("x^{2}");
    expect(lastBoxed("\\boxed{}")).toBe("");
    expect(lastBoxed("\\boxed{unclosed")).toBeUndefined();
  });
  it("reads only what follows </think>", () => {
    expect(extractAnswer("<think>\\boxed{1}</think>so 2")).toEqual({
      answer: "so 2",
      how: "bare",
      boxes: [],
    });
    expect(extractAnswer("<think>\\boxed{1} and never closed")).toBeUndefined();
  });
  it("lists every box after the thinking", () => {
    expect(extractAnswer("<think>\\boxed{0}</think>\\boxed{1} or \\boxed{2}")).toMatchObject({
      answer: "2",
      how: "boxed",
      boxes: ["1", "2"],
    });
  });
  it("finds marker phrases", () => {
    const long = `${"work ".repeat(60)}\n\n`;
    expect(extractAnswer(`${long}The final answer is $\\frac12$. I hope it is correct.`)?.answer).toBe(
      "\\frac12",
    );
    expect(extractAnswer(`${long}So the answer is **12**.`)?.answer).toBe("12");
    expect(extractAnswer(`${long}The correct option is (C).`)?.answer).toBe("(C)");
    expect(extractAnswer(`${long}Answer: 42`)?.answer).toBe("42");
    expect(extractAnswer(`${long}#### 7`)?.answer).toBe("7");
  });
  it("reads markers only near the end", () => {
    const early = `The answer is not obvious.\n\n${"more work ".repeat(300)}\n\nso $x = 5$`;
    expect(extractAnswer(early)).toMatchObject({ answer: "x = 5", how: "math" });
  });
  it("treats a short response as the bare answer", () => {
    expect(extractAnswer("  (1, 2)  ")).toMatchObject({ answer: "(1, 2)", how: "bare" });
  });
  it("falls back to the last math span, then the last number", () => {
    const long = `${"words ".repeat(60)}\n\n`;
    expect(extractAnswer(`${long}so $x=3$ and then $y = 4$ is it`)).toMatchObject({
      answer: "y = 4",
      how: "math",
    });
    expect(extractAnswer(`${long}it is 12 or rather 13 apples`)).toMatchObject({
      answer: "13",
      how: "number",
    });
    expect(extractAnswer(`${long}nothing here`)).toBeUndefined();
  });
});
