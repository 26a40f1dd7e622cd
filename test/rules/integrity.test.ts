/**
 * Issue 11's findings, each pinned: the false positives found by probing (each
 * accepted before), the response formats whose answers were missed, and the
 * general rules, each with both directions and a rejecting twin.
 */
import { describe, expect, it } from "vitest";
import { verifyAnswer } from "../../src/rules/index.js";

const opts = { budgetMs: 2000 };
const outcome = (gold: string, response: string, question?: string) =>
  verifyAnswer(gold, response, { ...opts, question }).outcome;

const REJECT: [gold: string, response: string][] = [
  // scientific notation to 3 significant digits against an exact integer
  ["1234567", "\\boxed{1.23e6}"],
  ["2024", "2.02e3"],
  // a coarser decimal gold accepting any answer that rounds to it
  ["0.5", "0.54"],
  ["0.5", "0.549"],
  ["\\frac12", "0.54"],
  ["0.5", "\\frac{27}{53}"],
  // prose around the right number
  ["3", "3 \\text{ is wrong}"],
  ["3", "\\text{I dont know } 3"],
  ["3", "guess: 3"],
  ["3", "3 \\text{ but it could also be } 4"],
  ["3", "3 vs 4"],
  ["3", "wait, actually 4"],
  ["3", "3 plus 4"],
  ["3", "3 thousand"],
  ["3", "half of 3"],
  ["3", "under 3"],
  ["3", "anything but 3"],
  ["3", "3 \\approx 4"],
  ["3.7", "toString(3)"],
  ["3.7", "fact(3)"],
  ["3.7", "floor(3.7)"],
  ["3", "\\boxed{3 \\text{ is wrong}}"],
  ["3", "The answer is not 3."],
  ["10", "so we get 2^10"],
  ["3", "so 5 = 2 + 3"],
  // a conclusion that is one span which does not parse: no number inside it is tried
  ["12", "The final answer is $\\frac 1 12$."],
  [
    "8 \\times \\sqrt{100}",
    "The sum is $\\frac{n(n+1)}{2}$.\nThe answer is $8\\sqrt 80$. I hope it is correct.",
  ],
  ["12", "so we get $\\frac 1 12$."],
  // a renamed free variable
  ["x+1", "y+1"],
  ["x^2", "t^2"],
  // units that differ
  ["5 \\text{ cm}", "5 \\text{ km}"],
];

const ACCEPT: [gold: string, response: string][] = [
  ["f(x)=2x", "f(m)=2m"],
  ["y = 2x + 1", "y = 2t + 1"],
  ["x = k\\pi", "n\\pi"],
  ["1234567", "1.234567e6"],
  ["1.23e6", "1234567"],
  ["\\frac{600}{7}", "85.71"],
  ["30.52", "\\frac{1587}{52}"],
  ["165.47", "165.5"],
  ["0.5", "0.50"],
  ["3", "The product is 3."],
  ["5 \\text{ cm}", "5 \\text{ centimeters}"],
];

/** General rules: [gold, right answer, rejecting twin]. */
const RULES: [gold: string, right: string, twin: string][] = [
  // numbers with separators
  ["4000017", "4,000,017", "4,000,018"],
  ["4,000,017", "\\boxed{4000017}", "\\boxed{4000071}"],
  ["22333", "22,\\! 333", "22,\\! 334"],
  ["22333", "\\boxed{22,\\!333}", "\\boxed{22,\\!332}"],
  ["3210", "\\$3,210", "\\$3,201"],
  ["3210", "The total is $3,210.", "The total is $3,120."],
  // labelled golds and answers
  ["|PQ| = 5", "5", "6"],
  ["5", "|PQ| = 5", "|PQ| = 6"],
  ["A:B=3:8", "3:8", "3:7"],
  ["3:8", "A:B = 3:8", "A:B = 3:7"],
  // equations equal up to a nonzero factor
  ["2x-3y+z-7=0", "-2x+3y-z+7=0", "2x-3y+z-8=0"],
  ["2x-3y+z-7=0", "4x-6y+2z-14=0", "4x-6y+2z-7=0"],
  ["2x-3y+z-7=0", "2x-3y+z=7", "2x-3y-z=7"],
  ["x^2=1", "2x^2=2", "x^4=1"],
  // golds that are several boxes
  ["\\boxed{2}, \\boxed{3}", "\\boxed{3}, \\boxed{2}", "\\boxed{3}"],
  ["\\boxed{2} \\text{ and } \\boxed{3}", "2, 3", "2, 4"],
  // \text{e} is e
  ["\\text{e}", "e", "3"],
  ["e^2", "\\text{e}^2", "\\text{e}^3"],
  ["\\mathrm{e}", "2.718", "2.719"],
  // ordinals and units on either side
  ["15", "15th", "16th"],
  ["15th", "15", "16"],
  ["3^{\\text{rd}}", "3", "4"],
  ["2", "2nd", "22nd"],
  ["5 \\text{ cm}", "5", "6"],
  ["5", "5 \\text{ cm}", "6 \\text{ cm}"],
  ["5\\,\\mathrm{m}^2", "5", "50"],
  ["12", "12 \\text{ apples}", "13 \\text{ apples}"],
  ["12 \\text{ apples}", "12", "21"],
  // repeating decimals are fractions; a cut decimal is a decimal
  ["\\frac13", "0.\\overline{3}", "0.\\overline{4}"],
  ["\\frac16", "0.1666...", "0.1777..."],
  ["\\frac17", "0.142857142857...", "0.142857142858..."],
  ["\\pi", "3.14159...", "3.14158..."],
  // one equation written two ways; the empty set said in words
  ["y = 2x + 1", "2x - y + 1 = 0", "2x - y - 1 = 0"],
  ["\\emptyset", "\\text{no solution}", "\\{0\\}"],
  ["\\text{No real solutions}", "\\varnothing", "\\{1\\}"],
  // a variable the gold binds
  ["x = k\\pi, k \\in \\mathbb{Z}", "x = n\\pi, n \\in \\mathbb{Z}", "x = 2n\\pi, n \\in \\mathbb{Z}"],
  [
    "(3t, 5t) \\text{ for some integer } t",
    "(3s, 5s) \\text{ for some integer } s",
    "(5s, 3s) \\text{ for some integer } s",
  ],
];

const long = "We compute it step by step, carefully, and check each step. ".repeat(6);

/** Response formats: [gold, response, twin response]. */
const FORMATS: [name: string, gold: string, response: string, twin: string][] = [
  [
    "GSM8K: an 'A:' line after calculator annotations",
    "24",
    "She bakes 6 x 4 = <<6*4=24>>24 cookies.\nA: 24",
    "She bakes 6 x 4 = <<6*4=24>>24 cookies.\nA: 25",
  ],
  [
    "Minerva: the number outside the dollars",
    "5",
    `${long}\nFinal Answer: The final answer is 5. I hope it is correct.`,
    `${long}\nFinal Answer: The final answer is 6. I hope it is correct.`,
  ],
  [
    "Minerva: a leaked chat turn after the answer",
    "\\frac{1}{2}",
    `${long}\nFinal Answer: The final answer is $\\frac{1}{2}$. I hope it is correct.<|im_start|>user\nWhat is $\\boxed{7}$?`,
    `${long}\nFinal Answer: The final answer is $\\frac{1}{3}$. I hope it is correct.<|im_start|>user\nWhat is $\\boxed{1/2}$?`,
  ],
  ["Chinese conclusion", "18", `${long}\n所以答案是 18。`, `${long}\n所以答案是 17。`],
  [
    "Chinese therefore, no marker word for answer",
    "6",
    `${long}\n因此小明有6个苹果。`,
    `${long}\n因此小明没有6个苹果。`,
  ],
  [
    "French conclusion",
    "12",
    `${long}\nDonc la réponse est $12$.`,
    `${long}\nDonc la réponse n'est pas $12$.`,
  ],
  ["Arabic conclusion", "8", `${long}\nالإجابة هي 8`, `${long}\nالإجابة هي 9`],
  [
    "a bold number",
    "42",
    `${long}\nIn total she pays **42** dollars.`,
    `${long}\nIn total she pays **41** dollars.`,
  ],
  [
    "a closing sentence",
    "13",
    `${long}\nSo she has 13 apples left.\n\nI hope this helps!`,
    `${long}\nSo she has at least 13 apples left.`,
  ],
];

describe("reward integrity (issue 11)", () => {
  it.each(REJECT)("rejects gold %s, response %s", (gold, response) => {
    expect(outcome(gold, response)).not.toBe("match");
  });

  it.each(ACCEPT)("accepts gold %s, response %s", (gold, response) => {
    expect(outcome(gold, response)).toBe("match");
  });

  it.each(RULES)("gold %s: accepts %s, rejects %s", (gold, right, twin) => {
    expect(outcome(gold, right)).toBe("match");
    expect(outcome(twin === "" ? gold : gold, twin)).not.toBe("match");
  });

  it.each(FORMATS)("finds the answer: %s", (_name, gold, response, twin) => {
    expect(outcome(gold, response)).toBe("match");
    expect(outcome(gold, twin)).not.toBe("match");
  });

  it("a short response is the answer itself only when it parses as one", () => {
    expect(outcome("3", "3")).toBe("match");
    expect(outcome("3", "3 5")).not.toBe("match");
    expect(outcome("5", "3 5")).not.toBe("match");
    expect(outcome("5", "It's 5")).toBe("match");
  });

  it("an answer that only restates the question's expression is a mismatch (and an option)", () => {
    const q = "Compute $\\binom{10}{3}$.";
    expect(outcome("120", "\\boxed{\\binom{10}{3}}", q)).toBe("mismatch");
    expect(outcome("120", "\\boxed{120}", q)).toBe("match");
    // Without the question (--restated-answers accept) it is equal, as mathematics says.
    expect(outcome("120", "\\boxed{\\binom{10}{3}}")).toBe("match");
    // The gold itself may stand in the question.
    expect(outcome("x+1", "\\boxed{x+1}", "Let $f(x) = x+1$. What is f(x)?")).toBe("match");
  });
});
