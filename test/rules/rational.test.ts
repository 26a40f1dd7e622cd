import { describe, expect, it } from "vitest";
import * as Q from "../../src/rules/rational.js";

describe("rational", () => {
  it("reduces and keeps the sign on the numerator", () => {
    expect(Q.rat(6n, -4n)).toEqual({ n: -3n, d: 2n });
  });
  it("parses decimals exactly with their precision", () => {
    expect(Q.parseDecimal("2.50")).toEqual({ value: Q.rat(5n, 2n), decimals: 2 });
    expect(Q.parseDecimal("1.5e-3")).toEqual({ value: Q.rat(3n, 2000n), decimals: 4 });
    expect(Q.parseDecimal("-12")).toEqual({ value: Q.rat(-12n), decimals: 0 });
    expect(Q.parseDecimal("abc")).toBeUndefined();
  });
  it("computes big powers exactly and refuses giant ones", () => {
    expect(Q.powInt(Q.rat(2n), 64n)).toEqual(Q.rat(18446744073709551616n));
    expect(Q.powInt(Q.rat(2n), 100000n)).toBeUndefined();
    expect(Q.powInt(Q.rat(0n), -1n)).toBeUndefined();
  });
  it("takes rational roots only of perfect powers", () => {
    expect(Q.powRat(Q.rat(27n, 8n), Q.rat(1n, 3n))).toEqual(Q.rat(3n, 2n));
    expect(Q.powRat(Q.rat(-8n), Q.rat(1n, 3n))).toEqual(Q.rat(-2n));
    expect(Q.powRat(Q.rat(2n), Q.rat(1n, 2n))).toBeUndefined();
    expect(Q.powRat(Q.rat(-4n), Q.rat(1n, 2n))).toBeUndefined();
    const big = 10n ** 400n;
    expect(Q.powRat(Q.rat(big * big), Q.rat(1n, 2n))).toEqual(Q.rat(big));
  });
  it("factorials and binomials", () => {
    expect(Q.factorial(Q.rat(5n))).toEqual(Q.rat(120n));
    expect(Q.factorial(Q.rat(1n, 2n))).toBeUndefined();
    expect(Q.binomial(Q.rat(5n), Q.rat(2n))).toEqual(Q.rat(10n));
  });
  it("rounds half away from zero", () => {
    expect(Q.roundTo(Q.rat(600n, 7n), 2)).toEqual(Q.rat(8571n, 100n));
    expect(Q.roundTo(Q.rat(-5n, 2n), 0)).toEqual(Q.rat(-3n));
  });
  it("converts huge values to floats without overflow to NaN", () => {
    expect(Q.toNumber(Q.rat(10n ** 400n + 1n, 10n ** 400n))).toBeCloseTo(1, 12);
  });
});
