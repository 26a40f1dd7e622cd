import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { verifyAnswer } from "../../src/rules/index.js";

const opts = { budgetMs: 5000 };

interface Iv {
  lo: number;
  hi: number;
  loClosed: boolean;
  hiClosed: boolean;
}

const interval = fc
  .tuple(fc.integer({ min: -20, max: 20 }), fc.integer({ min: 1, max: 20 }), fc.boolean(), fc.boolean())
  .map(([lo, len, loClosed, hiClosed]): Iv => ({ lo, hi: lo + len, loClosed, hiClosed }));

const asInterval = (iv: Iv) => `${iv.loClosed ? "[" : "("}${iv.lo}, ${iv.hi}${iv.hiClosed ? "]" : ")"}`;
const asInequality = (iv: Iv) =>
  `${iv.lo} ${iv.loClosed ? "\\le" : "<"} x ${iv.hiClosed ? "\\le" : "<"} ${iv.hi}`;
const asBuilder = (iv: Iv) => `\\{x \\mid ${asInequality(iv)}\\}`;
const spell = [asInterval, asInequality, asBuilder];

describe("property: sets of reals", () => {
  it("an interval equals itself in any notation", () => {
    fc.assert(
      fc.property(interval, fc.nat(2), fc.nat(2), (iv, i, j) => {
        const g = (spell[i] as (x: Iv) => string)(iv);
        const a = (spell[j] as (x: Iv) => string)(iv);
        expect(verifyAnswer(g, a, opts).outcome).toBe("match");
      }),
      { numRuns: 150 },
    );
  });

  it("a moved endpoint or a flipped bracket is never accepted", () => {
    const change = fc.constantFrom("lo", "hi", "loClosed", "hiClosed");
    fc.assert(
      fc.property(interval, change, fc.nat(2), fc.nat(2), (iv, what, i, j) => {
        const other: Iv = { ...iv };
        if (what === "lo") other.lo -= 1;
        else if (what === "hi") other.hi += 1;
        else other[what] = !iv[what];
        const g = (spell[i] as (x: Iv) => string)(iv);
        const a = (spell[j] as (x: Iv) => string)(other);
        expect(verifyAnswer(g, a, opts).outcome).not.toBe("match");
      }),
      { numRuns: 200 },
    );
  });

  it("a union matches in any order and not with a piece missing", () => {
    fc.assert(
      fc.property(interval, fc.integer({ min: 2, max: 10 }), (iv, gap) => {
        const second: Iv = { lo: iv.hi + gap, hi: iv.hi + gap + 3, loClosed: true, hiClosed: false };
        const union = `${asInterval(iv)} \\cup ${asInterval(second)}`;
        expect(verifyAnswer(union, `${asInterval(second)} \\cup ${asInterval(iv)}`, opts).outcome).toBe(
          "match",
        );
        expect(verifyAnswer(union, asInterval(iv), opts).outcome).not.toBe("match");
      }),
      { numRuns: 100 },
    );
  });
});
