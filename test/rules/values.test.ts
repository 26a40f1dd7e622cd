import { describe, expect, it } from "vitest";
import { normalizeLatex } from "../../src/rules/normalize.js";
import { parseTokens } from "../../src/rules/parse.js";
import { tokenize } from "../../src/rules/tokenize.js";
import { interpret, type Value } from "../../src/rules/values.js";

const value = (s: string): Value => interpret(parseTokens(tokenize(normalizeLatex(s))));

describe("interpret", () => {
  it("reads inequalities in one variable as intervals", () => {
    expect(value("x < 3")).toMatchObject({ t: "realset", parts: [{ loClosed: false, hiClosed: false }] });
    const ge = value("3 \\ge x");
    expect(ge).toMatchObject({ t: "realset", parts: [{ loClosed: false, hiClosed: true }] });
    expect(ge.t === "realset" && ge.parts[0]?.lo).toBeUndefined();
    expect(value("-1 \\le a < 2")).toMatchObject({
      t: "realset",
      parts: [{ loClosed: true, hiClosed: false }],
    });
    expect(value("x \\ne 0").t).toBe("realset");
  });
  it("keeps orderings of several variables as relations", () => {
    expect(value("b < a < d < c").t).toBe("rel");
  });
  it("reads intervals with infinity or square brackets; (a, b) stays a tuple", () => {
    expect(value("[1, 2)").t).toBe("realset");
    expect(value("(-\\infty, 2)").t).toBe("realset");
    expect(value("(1, 2)").t).toBe("tuple");
  });
  it("names values and functions", () => {
    expect(value("x = 2")).toMatchObject({ t: "eq", name: "x" });
    expect(value("f(x) = 2x")).toMatchObject({ t: "fdef", name: "f", params: ["x"] });
    expect(value("(f(n), g(n)) = (n, 1)")).toMatchObject({
      t: "tuple",
      items: [{ t: "fdef" }, { t: "fdef" }],
    });
  });
  it("expands ± into two values", () => {
    expect(value("3 \\pm \\sqrt{2}")).toMatchObject({ t: "list", items: [{ t: "scalar" }, { t: "scalar" }] });
  });
  it("joins alternatives in one variable into a solution set", () => {
    expect(value("a \\le -2 \\text{ or } a = 1")).toMatchObject({
      t: "realset",
      parts: [{}, { loClosed: true }],
    });
  });
  it("turns negated prose into text so it never matches a number", () => {
    expect(value("\\text{not } 3").t).toBe("text");
  });
});
