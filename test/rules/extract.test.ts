import { describe, expect, it } from "vitest";
import { candidates, finalPart, lastBoxed } from "../../src/rules/extract.js";

/** The first candidate's answers and kind. */
const first = (response: string) => {
  const c = candidates(response)[0];
  return c && { answers: c.answers, how: c.how, final: c.final };
};

const long = `${"work ".repeat(60)}\n\n`;

describe("extract", () => {
  it("takes the last box with nested braces", () => {
    expect(lastBoxed("\\boxed{1} then \\boxed{\\frac{a}{\\sqrt{b}}}")).toBe("\\frac{a}{\\sqrt{b}}");
    expect(lastBoxed("\\fbox{x^{2}}")).toBe("x^{2}");
    expect(lastBoxed("\\boxed{}")).toBe("");
    expect(lastBoxed("\\boxed{unclosed")).toBeUndefined();
  });

  it("reads only what follows </think>, and nothing while still thinking", () => {
    expect(first("<think>\\boxed{1}</think>so 2")).toMatchObject({ answers: ["so 2"], how: "bare" });
    expect(candidates("<think>\\boxed{1} and never closed")).toEqual([]);
  });

  it("lists every box after the thinking, as one final candidate", () => {
    expect(candidates("<think>\\boxed{0}</think>\\boxed{1} or \\boxed{2}")).toEqual([
      { answers: ["1", "2"], how: "boxed", final: true },
    ]);
  });

  it("cuts a new chat turn, a leaked template token, and calculator annotations", () => {
    expect(finalPart("So 5.<|im_end|>\n<|im_start|>user\nWhat is \\boxed{7}?")).toBe("So 5.");
    expect(finalPart("<|im_start|>assistant\nIt is 4<|endoftext|>junk")).toBe("It is 4");
    expect(finalPart("6 x 4 = <<6*4=24>>24 cookies")).toBe("6 x 4 = 24 cookies");
    expect(
      first("Final Answer: The final answer is $5$. I hope it is correct.<|im_start|>user\n\\boxed{9}"),
    ).toMatchObject({
      answers: ["5"],
      how: "marker",
    });
  });

  it("finds English conclusions: the value up to the end of its sentence", () => {
    expect(first(`${long}The final answer is $\\frac12$. I hope it is correct.`)?.answers).toEqual([
      "\\frac12",
    ]);
    expect(first(`${long}Final Answer: The final answer is 7. I hope it is correct.`)?.answers).toEqual([
      "7",
    ]);
    expect(first(`${long}So the answer is **12**.`)?.answers).toEqual(["12"]);
    expect(first(`${long}The correct option is (C).`)?.answers).toEqual(["(C)"]);
    expect(first(`${long}Answer: 42`)?.answers).toEqual(["42"]);
    expect(first(`${long}#### 7`)?.answers).toEqual(["7"]);
    expect(first("He has 3 + 4 = 7 apples.\nA: 7")?.answers).toEqual(["7"]);
    expect(first(`${long}The answer is 5, because 2 + 3 = 5.`)?.answers).toEqual(["5"]);
  });

  it("keeps every span of a conclusion: 'x = 3 or x = 4' is one answer, a hedge", () => {
    expect(first(`${long}The answer is $x=3$ or $x=4$.`)?.answers).toEqual(["x=3  or  x=4"]);
  });

  it("finds conclusions in other languages", () => {
    expect(first(`${long}所以答案是 **5**。`)?.answers).toEqual(["5"]);
    expect(first(`${long}答案：$\\frac{1}{2}$`)?.answers).toEqual(["\\frac{1}{2}"]);
    expect(first(`${long}Donc la réponse est 12.`)?.answers).toEqual(["12"]);
    expect(first(`${long}La respuesta es $7$.`)?.answers).toEqual(["7"]);
    expect(first(`${long}Die Antwort ist 9.`)?.answers).toEqual(["9"]);
    expect(first(`${long}Ответ: 3`)?.answers).toEqual(["3"]);
    expect(first(`${long}الإجابة هي 8`)?.answers).toEqual(["8"]);
    const weak = candidates(`${long}因此小明有 6 个苹果。`).map((c) => c.answers[0]);
    expect(weak).toContain("6");
  });

  it("an explicit conclusion is final: one that does not parse never falls back to its last number", () => {
    const cands = candidates(`${long}Therefore the answer is not 3.`);
    expect(cands.every((c) => c.how === "marker")).toBe(true);
    expect(cands.map((c) => c.answers[0])).toEqual(["not 3"]);
    expect(cands.at(-1)?.final).toBe(true);
  });

  it("reads markers only near the end", () => {
    const early = `The answer is not obvious.\n\n${"more work ".repeat(300)}\n\nso $x = 5$`;
    expect(first(early)).toMatchObject({ answers: ["x = 5"], how: "math" });
  });

  it("offers a short response as the answer itself, then weaker candidates", () => {
    expect(first("  (1, 2)  ")).toMatchObject({ answers: ["(1, 2)"], how: "bare" });
    expect(candidates("It's 5").map((c) => c.how)).toEqual(["bare", "number"]);
  });

  it("falls back to the last math span, then the last number of the closing sentence", () => {
    expect(first(`${long}so $x=3$ and then $y = 4$ is it`)).toMatchObject({
      answers: ["y = 4"],
      how: "math",
    });
    expect(candidates(`${long}it is 12 or rather 13 apples`).at(-1)).toBeUndefined();
    expect(candidates(`${long}In total she pays 13 dollars.\n\nI hope this helps!`).at(-1)).toMatchObject({
      answers: ["13"],
      how: "number",
    });
    expect(candidates(`${long}nothing here`)).toEqual([]);
  });

  it("no number fallback from a sentence whose words change what the number means", () => {
    for (const s of ["it is at least 3", "so it is not 3", "maybe 3", "3 is wrong", "wait, actually 4"]) {
      expect(candidates(`${long}${s}`).some((c) => c.how === "number")).toBe(false);
    }
  });
});
