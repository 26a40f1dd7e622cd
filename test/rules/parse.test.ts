import { describe, expect, it } from "vitest";
import { type Node, nodeKey } from "../../src/rules/ast.js";
import { TooDeep } from "../../src/rules/budget.js";
import { normalizeLatex } from "../../src/rules/normalize.js";
import { ParseError, parseTokens } from "../../src/rules/parse.js";
import { tokenize } from "../../src/rules/tokenize.js";

const parse = (s: string): Node => parseTokens(tokenize(normalizeLatex(s)));
const key = (s: string) => nodeKey(parse(s));

describe("tokenize", () => {
  it("splits numbers, symbols, commands and words", () => {
    expect(tokenize("2x+\\sqrt{3}").map((t) => `${t.t}:${t.s}`)).toEqual([
      "num:2",
      "id:x",
      "op:+",
      "cmd:sqrt",
      "open:{",
      "num:3",
      "close:}",
    ]);
    expect(tokenize("7 apples and 5").map((t) => t.t)).toEqual(["num", "word", "op", "num"]);
    expect(tokenize("\\text{no solution}").map((t) => t.s)).toEqual(["no", "solution"]);
    expect(tokenize("2an").map((t) => t.s)).toEqual(["2", "a", "n"]);
  });
  it("maps relation and set commands to one spelling", () => {
    expect(tokenize("\\leqslant \\geq \\neq \\cup \\in").map((t) => t.s)).toEqual([
      "<=",
      ">=",
      "!=",
      "cup",
      "in",
    ]);
  });
});

describe("parse", () => {
  it("respects precedence and associativity", () => {
    expect(key("1+2*3^2")).toBe("(1+(2*(3^2)))");
    expect(key("2^{3^2}")).toBe("(2^(3^2))");
    expect(key("-x^2")).toBe("-(($x^2))");
    expect(key("a/b/c")).toBe("(($a/$b)/$c)");
  });
  it("reads \\frac12 the TeX way but 2^10 the plain-text way", () => {
    expect(key("\\frac12")).toBe("(1/2)");
    expect(key("2^10")).toBe("(2^10)");
    expect(key("a_10")).toBe("$a_10");
  });
  it("reads implicit products, functions and mixed numbers", () => {
    expect(key("2\\sin x")).toBe("(2*sin($x))");
    expect(key("\\sin^2 x")).toBe("(sin($x)^2)");
    expect(key("\\tan^{-1} x")).toBe("arctan($x)");
    expect(key("\\log_2 8")).toBe("log(8,2)");
    expect(key("21\\frac{13}{14}")).toBe("(21+(13/14))");
    expect(key("n!")).toBe("fact($n)");
    expect(key("|x-1|")).toBe("abs(($x-1))");
    expect(key("x_{1}+x_1")).toBe("($x_1+$x_1)");
  });
  it("builds tuples, intervals, sets, builders, matrices and relations", () => {
    expect(parse("(1, 2]").k).toBe("group");
    expect(parse("\\{1, 2\\}").k).toBe("set");
    expect(parse("\\{x \\mid x > 0\\}").k).toBe("builder");
    expect(parse("\\begin{pmatrix} 1 & 2 \\\\ 3 & 4 \\end{pmatrix}")).toMatchObject({ k: "matrix" });
    expect(parse("0 < x \\le 1")).toMatchObject({ k: "rel", ops: ["<", "<="] });
    expect(parse("1, 2 or 3")).toMatchObject({ k: "list", sep: "or" });
  });
  it("keeps prose apart from the math", () => {
    expect(parse("Paolo: 18")).toMatchObject({
      k: "rel",
      ops: ["label"],
      items: [{ k: "text" }, { k: "num" }],
    });
    expect(parse("18 apples")).toMatchObject({
      k: "rel",
      ops: ["with-prose"],
      items: [{ k: "num" }, { k: "text" }],
    });
    expect(parse("Maximum = 2")).toMatchObject({
      k: "rel",
      ops: ["="],
      items: [{ k: "text" }, { k: "num" }],
    });
  });
  it("rejects what it cannot read", () => {
    expect(() => parse("\\cupdot")).toThrow(ParseError);
    expect(() => parse("(1")).toThrow(ParseError);
    expect(() => parse("1 +")).toThrow(ParseError);
  });
  it("caps nesting depth", () => {
    expect(() => parse(`${"(".repeat(500)}1${")".repeat(500)}`)).toThrow(TooDeep);
  });
});
