import { describe, expect, it } from "vitest";
import { Budget, OverBudget } from "../../src/rules/budget.js";
import { verifyAnswer } from "../../src/rules/index.js";

const opts = { budgetMs: 1000 };

describe("budget", () => {
  it("throws once the deadline has passed", () => {
    const b = new Budget(0);
    const t0 = performance.now();
    while (performance.now() === t0) {}
    expect(() => b.checkNow()).toThrow(OverBudget);
    expect(() => {
      for (let i = 0; i < 100; i++) b.check();
    }).toThrow(OverBudget);
  });
});

describe("verifyAnswer outcomes", () => {
  it("reports over_budget when the time budget is spent", () => {
    const r = verifyAnswer("\\frac{(x+1)^{2}-1}{x}", "\\boxed{x+2}", { budgetMs: 0 });
    expect(r.outcome).toBe("over_budget");
    expect(r.extracted).toBe("x+2");
  });
  it("reports over_budget past the input cap", () => {
    expect(
      verifyAnswer("1", `\\boxed{${"1+".repeat(100)}1}`, { budgetMs: 1000, maxInputChars: 50 }).outcome,
    ).toBe("over_budget");
    expect(verifyAnswer("1".repeat(60), "1", { budgetMs: 1000, maxInputChars: 50 }).outcome).toBe(
      "over_budget",
    );
  });
  it("reports no_answer for an empty box or an unfinished thought", () => {
    expect(verifyAnswer("1", "so \\boxed{}", opts).outcome).toBe("no_answer");
    expect(verifyAnswer("1", "<think>still going", opts).outcome).toBe("no_answer");
    expect(verifyAnswer("1", "   ", opts).outcome).toBe("no_answer");
  });
  it("reports unparseable with the reason", () => {
    const r = verifyAnswer("(-\\infty, 1)", "\\boxed{(-\\infty, 1) \\cupdot (2, 3)}", opts);
    expect(r.outcome).toBe("unparseable");
    expect(r.detail).toContain("cupdot");
  });
  it("returns the answer as written", () => {
    expect(verifyAnswer("2", "thus \\boxed{x = 2}.", opts)).toMatchObject({
      outcome: "match",
      extracted: "x = 2",
    });
  });
  it("reads a gold wrapped in dollars or a box", () => {
    expect(verifyAnswer("$\\frac{1}{2}$", "0.5", opts).outcome).toBe("match");
    expect(verifyAnswer("\\boxed{\\frac{1}{2}}", "0.5", opts).outcome).toBe("match");
  });
  it("ties the tolerance to the gold's precision, configurably", () => {
    // An answer finer than a decimal gold must be the gold itself; it may not merely round to it.
    expect(verifyAnswer("1.68", "1.680", opts).outcome).toBe("match");
    expect(verifyAnswer("1.68", "1.684", opts).outcome).toBe("mismatch");
    expect(verifyAnswer("0.5", "0.54", opts).outcome).toBe("mismatch");
    // An exact answer may be rounded by a gold of three significant digits or more, not by "0.5".
    expect(verifyAnswer("30.52", "\\frac{1587}{52}", opts).outcome).toBe("match");
    expect(verifyAnswer("0.5", "\\frac{27}{53}", opts).outcome).toBe("mismatch");
    // A gold a decimal can write in full must be written in full.
    expect(verifyAnswer("1234567", "1.23e6", opts).outcome).toBe("mismatch");
    expect(verifyAnswer("1234567", "1.234567e6", opts).outcome).toBe("match");
    expect(verifyAnswer("\\frac{600}{7}", "85.71", opts).outcome).toBe("match");
    expect(verifyAnswer("\\sqrt{2}", "1.41421356", { budgetMs: 1000 }).outcome).toBe("match");
    expect(verifyAnswer("165.47", "165.5", opts).outcome).toBe("match");
    expect(verifyAnswer("165.47", "165.5", { budgetMs: 1000, minSigDigits: 5 }).outcome).toBe("mismatch");
    expect(verifyAnswer("\\pi^2", "\\pi^2 + 10^{-6}", { budgetMs: 1000, relTol: 1e-3 }).outcome).toBe(
      "match",
    );
    expect(verifyAnswer("\\pi^2", "\\pi^2 + 10^{-6}", { budgetMs: 1000 }).outcome).toBe("mismatch");
  });
});
