import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { verifyAnswer } from "../../src/rules/index.js";

const BUDGET_MS = 50;
const opts = { budgetMs: BUDGET_MS };
/** Generous wall-clock bound: the budget plus scheduling noise on a shared machine. */
const HANG_MS = 1000;

const LATEX_PIECES = [
  "\\frac",
  "\\dfrac",
  "\\sqrt",
  "\\sqrt[3]",
  "{",
  "}",
  "(",
  ")",
  "[",
  "]",
  "\\{",
  "\\}",
  "\\left(",
  "\\right)",
  "^",
  "_",
  "x",
  "y",
  "n",
  "1",
  "2",
  "10",
  "0.5",
  "-",
  "+",
  "*",
  "/",
  ",",
  ";",
  ":",
  "|",
  "=",
  "<",
  "\\le",
  "\\pm",
  "\\infty",
  "\\pi",
  "e",
  "i",
  "!",
  "%",
  "\\%",
  "^\\circ",
  "\\text{",
  "and",
  "or",
  "\\cup",
  "\\in",
  "\\begin{pmatrix}",
  "\\end{pmatrix}",
  "&",
  "\\\\",
  "\\sin",
  "\\log_",
  "\\binom",
  "\\boxed{",
  "</think>",
  "$",
  " ",
  "\\cdots",
  "\\lfloor",
  "\\rfloor",
  "\\mathbf{",
  "√",
  "π",
  "∞",
  "≤",
  "−",
  "×",
  "1,000",
  "\\",
];

const latexSoup = fc.array(fc.constantFrom(...LATEX_PIECES), { maxLength: 40 }).map((xs) => xs.join(""));
const anyText = fc.oneof(
  latexSoup,
  fc.string({ maxLength: 60 }),
  fc.string({ maxLength: 30, unit: "grapheme" }),
);

function timed(gold: string, response: string) {
  const t0 = performance.now();
  const r = verifyAnswer(gold, response, opts);
  return { r, ms: performance.now() - t0 };
}

describe("property: garbage in, bounded answer out", () => {
  it("never throws and never hangs on random LaTeX and random strings", () => {
    fc.assert(
      fc.property(anyText, anyText, (gold, response) => {
        const { r, ms } = timed(gold, response);
        expect(["match", "mismatch", "no_answer", "unparseable", "over_budget"]).toContain(r.outcome);
        expect(ms).toBeLessThan(HANG_MS);
      }),
      { numRuns: 400 },
    );
  });

  it("survives pathological sizes and nesting", () => {
    const cases = [
      `${"(".repeat(5000)}1${")".repeat(5000)}`,
      `\\boxed{${"\\frac{1}{".repeat(2000)}1${"}".repeat(2000)}}`,
      `\\boxed{${"\\sqrt{".repeat(3000)}2${"}".repeat(3000)}}`,
      "2^{2^{2^{2^{2^{2^{2^{2}}}}}}}",
      "10^{10^{100}}",
      "\\binom{100000}{50000}",
      "100000!",
      "$".repeat(100000),
      "x".repeat(100000),
      `${"a ".repeat(200000)}\\boxed{1}`,
      "\\left(".repeat(3000),
      "\\boxed{1}\\boxed{2}".repeat(50000),
      "\\boxed{".repeat(100000),
    ];
    for (const c of cases) {
      for (const [g, a] of [
        [c, "1"],
        ["1", c],
        [c, c],
      ] as const) {
        const { r, ms } = timed(g, a);
        expect(r.outcome).toBeTypeOf("string");
        expect(ms).toBeLessThan(HANG_MS);
      }
    }
  });
});

/** Renders a rational a/b in one of several equivalent spellings. */
const spellings = (n: number, d: number): string[] => {
  const s = [`\\frac{${n}}{${d}}`, `\\dfrac{${n}}{${d}}`, `${n}/${d}`];
  if (n < 0) s.push(`-\\frac{${-n}}{${d}}`);
  if (d === 1) s.push(`${n}`);
  return s;
};

describe("property: never accept an answer for a different gold", () => {
  // A generous budget: these assert match/mismatch, and the test machine is shared.
  const opts = { budgetMs: 5000 };
  const frac = fc.tuple(fc.integer({ min: -999, max: 999 }), fc.integer({ min: 1, max: 99 }));

  it("distinct rationals are never equal, however they are written", () => {
    fc.assert(
      fc.property(frac, frac, fc.nat(4), fc.nat(4), ([n1, d1], [n2, d2], i, j) => {
        fc.pre(n1 * d2 !== n2 * d1);
        const g = spellings(n1, d1);
        const a = spellings(n2, d2);
        expect(verifyAnswer(g[i % g.length] as string, `\\boxed{${a[j % a.length]}}`, opts).outcome).not.toBe(
          "match",
        );
      }),
      { numRuns: 300 },
    );
  });

  it("equal rationals written differently are equal", () => {
    fc.assert(
      fc.property(frac, fc.integer({ min: 1, max: 9 }), fc.nat(4), ([n, d], k, j) => {
        const a = spellings(n * k, d * k);
        expect(verifyAnswer(`\\frac{${n}}{${d}}`, a[j % a.length] as string, opts).outcome).toBe("match");
      }),
      { numRuns: 200 },
    );
  });

  const poly = fc.array(fc.integer({ min: -9, max: 9 }), { minLength: 1, maxLength: 5 });
  const render = (cs: number[], v: string) =>
    cs.map((c, k) => `${c < 0 ? "-" : "+"}${Math.abs(c)}${v}^{${k}}`).join("");

  it("different polynomials are never equal; a renamed variable is", () => {
    fc.assert(
      fc.property(poly, poly, (p, q) => {
        const same = p.length === q.length && p.every((c, k) => c === q[k]);
        const trimmed = (cs: number[]) =>
          cs.slice(0, cs.length - [...cs].reverse().findIndex((c) => c !== 0));
        const equal = same || JSON.stringify(trimmed(p)) === JSON.stringify(trimmed(q));
        const r = verifyAnswer(render(p, "x"), render(q, "x"), opts).outcome;
        expect(r === "match").toBe(equal);
      }),
      { numRuns: 200 },
    );
  });

  it("tuples and sets: a changed element or an extra element is never accepted", () => {
    const items = fc.uniqueArray(fc.integer({ min: -50, max: 50 }), { minLength: 1, maxLength: 6 });
    fc.assert(
      fc.property(items, fc.integer({ min: -50, max: 50 }), fc.boolean(), (xs, extra, asSet) => {
        fc.pre(!xs.includes(extra));
        const wrap = (ys: number[]) => (asSet ? `\\{${ys.join(", ")}\\}` : `(${ys.join(", ")})`);
        const gold = xs.length === 1 ? `${xs[0]}` : wrap(xs);
        expect(verifyAnswer(gold, wrap([...xs, extra]), opts).outcome).not.toBe("match");
        const changed = [...xs];
        changed[0] = extra;
        expect(verifyAnswer(gold, changed.length === 1 ? `${extra}` : wrap(changed), opts).outcome).not.toBe(
          "match",
        );
      }),
      { numRuns: 200 },
    );
  });

  it("a close decimal is never accepted for an integer gold", () => {
    fc.assert(
      fc.property(fc.integer({ min: -10000, max: 10000 }), fc.integer({ min: 1, max: 99 }), (n, frac) => {
        expect(verifyAnswer(`${n}`, `${n}.${String(frac).padStart(2, "0")}`, opts).outcome).not.toBe("match");
      }),
      { numRuns: 200 },
    );
  });
});
