import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { verifyAnswer } from "../../src/rules/index.js";

/** A random arithmetic expression with its exact value, computed here independently of src/rules. */
interface Expr {
  tex: string;
  n: bigint;
  d: bigint;
}

const gcd = (a: bigint, b: bigint): bigint => (b === 0n ? (a < 0n ? -a : a) : gcd(b, a % b));
function mk(tex: string, n: bigint, d: bigint): Expr {
  if (d < 0n) [n, d] = [-n, -d];
  const g = gcd(n, d) || 1n;
  return { tex, n: n / g, d: d / g };
}

const leaf = fc.integer({ min: 0, max: 12 }).map((k) => mk(`${k}`, BigInt(k), 1n));

const expr: fc.Arbitrary<Expr> = fc.letrec<{ e: Expr }>((tie) => ({
  e: fc.oneof(
    { depthSize: "small", withCrossShrink: true },
    leaf,
    fc.tuple(tie("e"), tie("e")).map(([a, b]) => mk(`${a.tex}+${b.tex}`, a.n * b.d + b.n * a.d, a.d * b.d)),
    fc.tuple(tie("e"), tie("e")).map(([a, b]) => mk(`${a.tex}-(${b.tex})`, a.n * b.d - b.n * a.d, a.d * b.d)),
    fc.tuple(tie("e"), tie("e")).map(([a, b]) => mk(`(${a.tex})\\cdot(${b.tex})`, a.n * b.n, a.d * b.d)),
    fc
      .tuple(tie("e"), tie("e"))
      .filter(([, b]) => b.n !== 0n)
      .map(([a, b]) => mk(`\\frac{${a.tex}}{${b.tex}}`, a.n * b.d, a.d * b.n)),
    fc.tuple(tie("e"), fc.integer({ min: 0, max: 3 })).map(([a, k]) => {
      const kk = BigInt(k);
      return mk(`\\left(${a.tex}\\right)^{${k}}`, a.n ** kk, a.d ** kk);
    }),
    tie("e").map((a) => mk(`\\sqrt{(${a.tex})^{2}}`, a.n < 0n ? -a.n : a.n, a.d)),
  ),
})).e;

const canonical = (e: Expr) =>
  e.d === 1n ? `${e.n}` : e.n < 0n ? `-\\frac{${-e.n}}{${e.d}}` : `\\frac{${e.n}}{${e.d}}`;
const opts = { budgetMs: 5000 };

describe("property: arithmetic is exact", () => {
  it("an expression equals its exact value, and not that value plus a little", () => {
    fc.assert(
      fc.property(expr, fc.integer({ min: 1, max: 1000 }), (e, k) => {
        expect(verifyAnswer(e.tex, canonical(e), opts).outcome).toBe("match");
        expect(verifyAnswer(canonical(e), `\\boxed{${e.tex}}`, opts).outcome).toBe("match");
        const off = mk("", e.n * BigInt(k * 1000) + e.d, e.d * BigInt(k * 1000));
        expect(verifyAnswer(e.tex, canonical(off), opts).outcome).not.toBe("match");
      }),
      { numRuns: 250 },
    );
  });

  it("two expressions match exactly when their values are equal", () => {
    fc.assert(
      fc.property(expr, expr, (a, b) => {
        const equal = a.n === b.n && a.d === b.d;
        expect(verifyAnswer(a.tex, b.tex, opts).outcome === "match").toBe(equal);
      }),
      { numRuns: 250 },
    );
  });
});

/** A random polynomial expression in x with its expanded coefficients (index = power). */
interface Poly {
  tex: string;
  c: bigint[];
}

const addP = (a: bigint[], b: bigint[], s: bigint) =>
  Array.from({ length: Math.max(a.length, b.length) }, (_, i) => (a[i] ?? 0n) + s * (b[i] ?? 0n));
const mulP = (a: bigint[], b: bigint[]) => {
  const r: bigint[] = new Array(a.length + b.length - 1).fill(0n);
  a.forEach((x, i) => {
    b.forEach((y, j) => {
      r[i + j] = (r[i + j] as bigint) + x * y;
    });
  });
  return r;
};

const polyLeaf: fc.Arbitrary<Poly> = fc.oneof(
  fc.integer({ min: -5, max: 5 }).map((k) => ({ tex: `(${k})`, c: [BigInt(k)] })),
  fc.constant(null).map(() => ({ tex: "x", c: [0n, 1n] })),
);
const poly: fc.Arbitrary<Poly> = fc.letrec<{ p: Poly }>((tie) => ({
  p: fc.oneof(
    { depthSize: "small", withCrossShrink: true },
    polyLeaf,
    fc.tuple(tie("p"), tie("p")).map(([a, b]) => ({ tex: `${a.tex}+${b.tex}`, c: addP(a.c, b.c, 1n) })),
    fc
      .tuple(tie("p"), tie("p"))
      .map(([a, b]) => ({ tex: `${a.tex}-\\left(${b.tex}\\right)`, c: addP(a.c, b.c, -1n) })),
    fc
      .tuple(tie("p"), tie("p"))
      .map(([a, b]) => ({ tex: `\\left(${a.tex}\\right)\\left(${b.tex}\\right)`, c: mulP(a.c, b.c) })),
  ),
})).p;

const expanded = (c: bigint[]) => c.map((k, i) => `${k < 0n ? "-" : "+"}${k < 0n ? -k : k}x^{${i}}`).join("");

describe("property: polynomial identities", () => {
  it("an expression equals its expansion and not the expansion with one coefficient changed", () => {
    fc.assert(
      fc.property(poly, fc.nat(), fc.integer({ min: 1, max: 3 }), (p, at, delta) => {
        expect(verifyAnswer(p.tex, expanded(p.c), opts).outcome).toBe("match");
        const changed = [...p.c];
        const i = at % changed.length;
        changed[i] = (changed[i] as bigint) + BigInt(delta);
        expect(verifyAnswer(p.tex, expanded(changed), opts).outcome).not.toBe("match");
      }),
      { numRuns: 200 },
    );
  });
});
