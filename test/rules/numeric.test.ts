import { describe, expect, it } from "vitest";
import type { Node } from "../../src/rules/ast.js";
import { bigClose, digitsFor, evalBig } from "../../src/rules/bignum.js";
import { Budget } from "../../src/rules/budget.js";
import { normalizeLatex } from "../../src/rules/normalize.js";
import { Complex, EvaluationError, evalComplex, evalExact } from "../../src/rules/numeric.js";
import { parseTokens } from "../../src/rules/parse.js";
import { points } from "../../src/rules/points.js";
import * as Q from "../../src/rules/rational.js";
import { simplifiesToSame } from "../../src/rules/symbolic.js";
import { freeSymbols, renameSymbols } from "../../src/rules/symbols.js";
import { tokenize } from "../../src/rules/tokenize.js";

const tree = (s: string): Node => parseTokens(tokenize(normalizeLatex(s)));
const none = new Map();

describe("evaluation domains", () => {
  it("evaluates exactly while the value stays rational", () => {
    expect(evalExact(tree("\\frac{2^{64}+1}{3}"), none)).toEqual(Q.rat(18446744073709551617n, 3n));
    expect(evalExact(tree("\\sqrt{\\frac{9}{4}} + 5!"), none)).toEqual(Q.rat(243n, 2n));
    expect(evalExact(tree("\\sqrt{2}"), none)).toBeUndefined();
    expect(evalExact(tree("\\pi"), none)).toBeUndefined();
    expect(evalExact(tree("x^2"), new Map([["x", Q.rat(-3n)]]))).toEqual(Q.rat(9n));
  });
  it("evaluates in complex floats, refusing what has no value", () => {
    const z = evalComplex(tree("\\sqrt{-4} + e^{i\\pi}"), none);
    expect(z.re).toBeCloseTo(-1, 12);
    expect(z.im).toBeCloseTo(2, 12);
    expect(evalComplex(tree("\\sqrt[3]{-8}"), none).re).toBeCloseTo(-2, 12);
    expect(() => evalComplex(tree("\\infty"), none)).toThrow(EvaluationError);
    expect(() => evalComplex(tree("y"), none)).toThrow(EvaluationError);
    // A zero from a non-zero base is underflow, not a value.
    expect(() => evalComplex(tree("x^{100000}"), new Map([["x", new Complex(0.5, 0)]]))).toThrow(
      EvaluationError,
    );
  });
  it("evaluates to 40 digits and more when big integers need it", () => {
    expect(digitsFor([tree("\\sqrt{2}")])).toBe(40);
    expect(digitsFor([tree("\\sqrt{10^{40}+1}")])).toBe(80);
    expect(digitsFor([tree("10^{1000}")])).toBeUndefined();
    const a = evalBig(tree("\\sqrt{10^{40}+1}"), none, 80);
    const b = evalBig(tree("10^{20}"), none, 80);
    expect(a && b && bigClose(a, b, 1e-70, 80)).toBe(false);
    expect(a && b && bigClose(a, b, 1e-30, 80)).toBe(true);
    expect(evalBig(tree("\\sqrt{-1}"), none, 40)).toBeUndefined();
  });
});

describe("symbols and points", () => {
  it("finds and renames free symbols", () => {
    expect([...freeSymbols(tree("a_1 x + \\sin y"))]).toEqual(["a_1", "x", "y"]);
    expect([...freeSymbols(renameSymbols(tree("k\\pi + k"), new Map([["k", "n"]])))]).toEqual(["n"]);
  });
  it("gives the same seeded points every time, real ones of both signs and then complex ones", () => {
    const p1 = points(["x", "y"]);
    const p2 = points(["x", "y"]);
    expect(p1.map((p) => p.complex.get("x")?.re)).toEqual(p2.map((p) => p.complex.get("x")?.re));
    const reals = p1.filter((p) => p.exact).map((p) => Q.toNumber(p.exact?.get("x") as Q.Rational));
    expect(reals.some((v) => v < 0) && reals.some((v) => v > 0)).toBe(true);
    expect(p1.some((p) => (p.complex.get("x")?.im ?? 0) !== 0)).toBe(true);
  });
});

describe("symbolic fallback", () => {
  const budget = () => new Budget(10_000);
  it("proves identities no point can evaluate", () => {
    expect(simplifiesToSame(tree("x^{1000000}"), tree("(x^{1000})^{1000}"), budget())).toBe(true);
  });
  it("never rounds a difference away and refuses what it cannot do exactly", () => {
    expect(simplifiesToSame(tree("x^{1000000}+1"), tree("x^{1000000}"), budget())).toBe(false);
    expect(simplifiesToSame(tree("10^{100}+1"), tree("10^{100}"), budget())).toBe(false);
    expect(simplifiesToSame(tree("\\sqrt{10^{40}+1}"), tree("10^{20}"), budget())).toBe(false);
  });
  it("does not start without budget to finish", () => {
    expect(simplifiesToSame(tree("x^{1000000}"), tree("(x^{1000})^{1000}"), new Budget(10))).toBe(false);
  });
});
