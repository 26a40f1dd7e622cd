import { describe, expect, it } from "vitest";
import { normalizeLatex } from "../../src/rules/normalize.js";

describe("normalizeLatex", () => {
  it("drops sizing and spacing commands and math delimiters", () => {
    expect(normalizeLatex("$\\left( 1,\\! 2 \\right)$")).toBe("( 1, 2 )");
    expect(normalizeLatex("\\displaystyle\\quad x\\,+\\;1")).toBe("x + 1");
    expect(normalizeLatex("\\bigg(x\\bigg)")).toBe("(x )");
  });
  it("unifies fraction spellings", () => {
    expect(normalizeLatex("\\dfrac{1}{2}+\\tfrac{1}{3}+\\dbinom{4}{2}")).toBe(
      "\\frac{1}{2}+\\frac{1}{3}+\\binom{4}{2}",
    );
  });
  it("repairs JSON escaping accidents only when a command results", () => {
    expect(normalizeLatex("\frac{1}{2}")).toBe("\\frac{1}{2}");
    expect(normalizeLatex("\text{odd}")).toBe("\\text{odd}");
    expect(normalizeLatex("\\\\frac{\\\\pi}{2}")).toBe("\\frac{\\pi}{2}");
    expect(normalizeLatex("a\tb")).toBe("a b");
  });
  it("maps unicode math", () => {
    expect(normalizeLatex("√2 − π ≤ ∞ × 3")).toBe("\\sqrt 2 - \\pi \\le \\infty \\times 3");
    expect(normalizeLatex("45°")).toBe("45\\TVdeg");
  });
  it("marks degrees and percent", () => {
    expect(normalizeLatex("45^{\\circ}")).toBe("45\\TVdeg");
    expect(normalizeLatex("62.5\\%")).toBe("62.5\\TVpct");
  });
  it("removes thousands separators only from a lone number", () => {
    expect(normalizeLatex("1,000,000")).toBe("1000000");
    expect(normalizeLatex("1{,}000")).toBe("1000");
    expect(normalizeLatex("1,000 \\text{ dollars}")).toBe("1000 \\text{ dollars}");
    expect(normalizeLatex("(1,000, 2)")).toBe("(1,000, 2)");
    expect(normalizeLatex("1,000, 2,000")).toBe("1,000, 2,000");
    expect(normalizeLatex("1,2")).toBe("1,2");
  });
  it("drops sentence full stops but keeps decimal points", () => {
    expect(normalizeLatex("3.5.")).toBe("3.5");
    expect(normalizeLatex("(1, \\sqrt{2}.]")).toBe("(1, \\sqrt{2} ]");
  });
  it("reads ordinals as numbers", () => {
    expect(normalizeLatex("15th Day")).toBe("15 Day");
  });
});
