/**
 * Inputs for fuzzing the rule verifier (`verifyAnswer`), as fast-check arbitraries shared by the
 * bounded test (test/fuzz/rules.test.ts) and the million-input bench (bench/fuzz/rules.mjs).
 *
 * Values are built from a small typed model (numbers, fractions, roots, multiples of pi, tuples,
 * sets, intervals, matrices, equations, polynomials, units, degrees, percents, choices, words), so a
 * near-miss gold can be made that is certainly a different value (it differs by 5% or more, or in an
 * element, a bracket or a letter). Each value is written in one of many spellings (LaTeX, plain,
 * unicode, \text, sizing commands) and wrapped as a response (bare, boxed, "the answer is", after
 * `</think>`, `####`). Around that: LaTeX soup, random strings (lone surrogates included), mutated
 * responses, giant inputs up to the 1 MiB item limit, and nesting thousands deep.
 */
import fc from "fast-check";

/** What a case may not do beyond never throwing and staying in its time bound. */
export type Expectation = "any" | "not-match";

export interface RuleCase {
  kind: string;
  gold: string;
  response: string;
  expect: Expectation;
  /** The question, for the restated-question check (sometimes huge: it is bounded there). */
  question?: string;
}

/** --max-item-bytes' default: nothing larger reaches the verifier through the server. */
export const ITEM_LIMIT = 1024 * 1024;

// ---------------------------------------------------------------- the value model

type Num =
  | { t: "int"; n: number }
  | { t: "frac"; p: number; q: number }
  | { t: "dec"; units: number; places: number }
  | { t: "sqrt"; c: number; k: number }
  | { t: "pi"; p: number; q: number };

type Value =
  | { t: "num"; v: Num }
  | { t: "tuple"; items: Num[] }
  | { t: "set"; items: Num[] }
  | { t: "interval"; a: number | null; b: number | null; lc: boolean; rc: boolean }
  | { t: "matrix"; rows: number[][] }
  | { t: "eq"; x: string; v: Num }
  | { t: "ineq"; x: string; op: "<" | "\\le" | ">" | "\\ge"; n: number }
  | { t: "poly"; coefs: number[] }
  | { t: "unit"; v: Num; unit: string }
  | { t: "deg"; n: number }
  | { t: "pct"; n: number }
  | { t: "choice"; letter: string }
  | { t: "word"; w: string };

const LETTERS = "ABCDE";
const WORDS = ["odd", "even", "yes", "no", "Petya", "Vasya", "north", "impossible", "infinitely many"];
const UNITS = ["cm", "m", "kg", "seconds", "dollars", "km/h", "cm^2"];
const VARS = ["x", "y", "n", "t"];

const numValue = (v: Num): number => {
  switch (v.t) {
    case "int":
      return v.n;
    case "frac":
      return v.p / v.q;
    case "dec":
      return v.units / 10 ** v.places;
    case "sqrt":
      return v.c * Math.sqrt(v.k);
    case "pi":
      return (v.p / v.q) * Math.PI;
  }
};

const nonSquare = (k: number) => (Number.isInteger(Math.sqrt(k)) ? k + 1 : k);

const numArb: fc.Arbitrary<Num> = fc.oneof(
  { weight: 5, arbitrary: fc.integer({ min: -999, max: 9999 }).map((n) => ({ t: "int" as const, n })) },
  {
    weight: 1,
    arbitrary: fc
      .bigInt({ min: 10n ** 12n, max: 10n ** 30n })
      .map((n) => ({ t: "int" as const, n: Number(n) })),
  },
  {
    weight: 3,
    arbitrary: fc
      .tuple(fc.integer({ min: -60, max: 60 }), fc.integer({ min: 2, max: 40 }))
      .filter(([p, q]) => p % q !== 0)
      .map(([p, q]) => ({ t: "frac" as const, p, q })),
  },
  {
    weight: 2,
    arbitrary: fc
      .tuple(fc.integer({ min: -99999, max: 99999 }), fc.integer({ min: 1, max: 4 }))
      .filter(([u]) => u % 10 !== 0)
      .map(([units, places]) => ({ t: "dec" as const, units, places })),
  },
  {
    weight: 1,
    arbitrary: fc
      .tuple(fc.integer({ min: 1, max: 9 }), fc.integer({ min: 2, max: 99 }))
      .map(([c, k]) => ({ t: "sqrt" as const, c, k: nonSquare(k) })),
  },
  {
    weight: 1,
    arbitrary: fc
      .tuple(fc.integer({ min: 1, max: 12 }), fc.integer({ min: 1, max: 12 }))
      .map(([p, q]) => ({ t: "pi" as const, p, q })),
  },
);

const smallInt = fc.integer({ min: -20, max: 20 });

/** Numbers that are distinct by a margin, for sets and tuples whose elements must stay apart. */
const distinctNums = (min: number, max: number) =>
  fc.uniqueArray(numArb, { minLength: min, maxLength: max, selector: (v) => Math.round(numValue(v) * 100) });

const valueArb: fc.Arbitrary<Value> = fc.oneof(
  { weight: 6, arbitrary: numArb.map((v) => ({ t: "num" as const, v })) },
  { weight: 2, arbitrary: distinctNums(2, 4).map((items) => ({ t: "tuple" as const, items })) },
  { weight: 2, arbitrary: distinctNums(1, 5).map((items) => ({ t: "set" as const, items })) },
  {
    weight: 2,
    arbitrary: fc
      .tuple(fc.option(smallInt), fc.option(smallInt), fc.boolean(), fc.boolean())
      .map(([a, b, lc, rc]) => {
        const lo = a ?? null;
        const hi = b === null || lo === null ? b : lo + Math.abs(b) + 1;
        return { t: "interval" as const, a: lo, b: hi, lc: lo !== null && lc, rc: hi !== null && rc };
      }),
  },
  {
    weight: 1,
    arbitrary: fc
      .tuple(fc.integer({ min: 1, max: 3 }), fc.integer({ min: 1, max: 3 }))
      .chain(([r, c]) =>
        fc.array(fc.array(smallInt, { minLength: c, maxLength: c }), { minLength: r, maxLength: r }),
      )
      .map((rows) => ({ t: "matrix" as const, rows })),
  },
  {
    weight: 2,
    arbitrary: fc.tuple(fc.constantFrom(...VARS), numArb).map(([x, v]) => ({ t: "eq" as const, x, v })),
  },
  {
    weight: 1,
    arbitrary: fc
      .tuple(fc.constantFrom(...VARS), fc.constantFrom("<", "\\le", ">", "\\ge"), smallInt)
      .map(([x, op, n]) => ({ t: "ineq" as const, x, op: op as "<", n })),
  },
  {
    weight: 2,
    arbitrary: fc
      .array(fc.integer({ min: -9, max: 9 }), { minLength: 2, maxLength: 4 })
      .filter((c) => c.some((x, i) => i > 0 && x !== 0))
      .map((coefs) => ({ t: "poly" as const, coefs })),
  },
  {
    weight: 1,
    arbitrary: fc
      .tuple(numArb, fc.constantFrom(...UNITS))
      .map(([v, unit]) => ({ t: "unit" as const, v, unit })),
  },
  { weight: 1, arbitrary: fc.integer({ min: 1, max: 359 }).map((n) => ({ t: "deg" as const, n })) },
  { weight: 1, arbitrary: fc.integer({ min: 1, max: 100 }).map((n) => ({ t: "pct" as const, n })) },
  { weight: 1, arbitrary: fc.constantFrom(...LETTERS).map((letter) => ({ t: "choice" as const, letter })) },
  { weight: 1, arbitrary: fc.constantFrom(...WORDS).map((w) => ({ t: "word" as const, w })) },
);

// ---------------------------------------------------------------- near misses

/** A number at least 5% away (and at least 1 away for integers): no tolerance can bridge it. */
function otherNum(v: Num, pick: number): Num {
  const step = (x: number) => (pick % 2 === 0 ? 1 : -1) * Math.max(1, Math.ceil(Math.abs(x) * 0.1));
  switch (v.t) {
    case "int":
      return { t: "int", n: v.n + step(v.n) };
    case "frac":
      return { t: "frac", p: v.p + v.q * step(v.p / v.q), q: v.q };
    case "dec":
      return { t: "dec", units: v.units + step(v.units), places: v.places };
    case "sqrt":
      return { t: "sqrt", c: v.c, k: v.k + Math.max(1, Math.ceil(v.k * 0.25)) };
    case "pi":
      return { t: "pi", p: v.p + v.q, q: v.q };
  }
}

/** Swap one element for a value none of the others has (or drop one). */
function otherItems(items: Num[], pick: number, mayDrop: boolean): Num[] {
  const i = pick % items.length;
  if (mayDrop && items.length > 1 && pick % 3 === 0) return items.filter((_, j) => j !== i);
  const values = new Set(items.map((x) => Math.round(numValue(x) * 100)));
  let n = otherNum(items[i] as Num, pick);
  for (let k = 0; values.has(Math.round(numValue(n) * 100)) && k < 100; k++) n = otherNum(n, pick);
  return items.map((x, j) => (j === i ? n : x));
}

/** A value that is certainly not `v`. */
export function nearMiss(v: Value, pick: number): Value {
  switch (v.t) {
    case "num":
      return { t: "num", v: otherNum(v.v, pick) };
    case "tuple":
      return { t: "tuple", items: otherItems(v.items, pick, false) };
    case "set":
      return { t: "set", items: otherItems(v.items, pick, true) };
    case "interval": {
      // Flip a finite endpoint's bracket, or move it outwards.
      if (v.a !== null && pick % 2 === 0) return { ...v, lc: !v.lc };
      if (v.b !== null && pick % 3 === 0) return { ...v, rc: !v.rc };
      if (v.b !== null) return { ...v, b: v.b + 1 };
      if (v.a !== null) return { ...v, a: v.a - 1 };
      return { t: "interval", a: 0, b: null, lc: false, rc: false }; // (-inf, inf) -> (0, inf)
    }
    case "matrix": {
      const rows = v.rows.map((r) => [...r]);
      const r = pick % rows.length;
      const row = rows[r] as number[];
      const c = (pick >> 3) % row.length;
      row[c] = (row[c] as number) + 1;
      return { t: "matrix", rows };
    }
    case "eq":
      return { ...v, v: otherNum(v.v, pick) };
    case "ineq":
      return pick % 2 === 0
        ? { ...v, n: v.n + 1 }
        : { ...v, op: ({ "<": "\\le", "\\le": "<", ">": "\\ge", "\\ge": ">" } as const)[v.op] };
    case "poly": {
      const coefs = [...v.coefs];
      const i = pick % coefs.length;
      coefs[i] = (coefs[i] as number) + (pick % 2 === 0 ? 1 : -1);
      return coefs.some((x, j) => j > 0 && x !== 0) ? { t: "poly", coefs } : { t: "poly", coefs: [0, 2] };
    }
    case "unit":
      return { ...v, v: otherNum(v.v, pick) };
    case "deg":
      return { t: "deg", n: v.n + Math.max(2, Math.ceil(v.n * 0.1)) };
    case "pct":
      return { t: "pct", n: v.n + Math.max(2, Math.ceil(v.n * 0.1)) };
    case "choice":
      return { t: "choice", letter: LETTERS[(LETTERS.indexOf(v.letter) + 1 + (pick % 4)) % 5] as string };
    case "word":
      return { t: "word", w: WORDS[(WORDS.indexOf(v.w) + 1 + (pick % 8)) % WORDS.length] as string };
  }
}

const repeatTo = (unit: string, chars: number) => unit.repeat(Math.max(1, Math.floor(chars / unit.length)));

// ---------------------------------------------------------------- spellings

/** A stream of stylistic choices, so one value has many spellings. */
class Style {
  private i = 0;
  constructor(private readonly picks: number[]) {}
  pick<T>(options: readonly T[]): T {
    const p = this.picks[this.i++ % this.picks.length] as number;
    return options[p % options.length] as T;
  }
}

const groupThousands = (n: number) =>
  n.toLocaleString("en-US", { useGrouping: true, maximumFractionDigits: 0 });

function writeNum(v: Num, s: Style): string {
  const neg = (x: string) => s.pick([`-${x}`, `−${x}`, `-{${x}}`]);
  switch (v.t) {
    case "int": {
      const a = Math.abs(v.n);
      const body =
        a >= 1000 && a < 1e15
          ? s.pick([String(a), groupThousands(a), groupThousands(a).replace(/,/g, "{,}"), String(a)])
          : a >= 1e15
            ? BigInt(a).toString()
            : s.pick([String(a), String(a), `{${a}}`, `\\mathbf{${a}}`, `${a}.0`]);
      return v.n < 0 ? neg(body) : body;
    }
    case "frac": {
      const p = Math.abs(v.p);
      const body = s.pick([
        `\\frac{${p}}{${v.q}}`,
        `\\dfrac{${p}}{${v.q}}`,
        `\\tfrac{${p}}{${v.q}}`,
        `${p}/${v.q}`,
        p < 10 && v.q < 10 ? `\\frac${p}${v.q}` : `\\frac{${p}}{${v.q}}`,
        `\\left(\\frac{${p}}{${v.q}}\\right)`,
      ]);
      return v.p < 0 ? neg(body) : body;
    }
    case "dec": {
      const text = (Math.abs(v.units) / 10 ** v.places).toFixed(v.places);
      const body = s.pick([text, text, text.replace(/^0\./, "."), `${text}0`]);
      return v.units < 0 ? neg(body) : body;
    }
    case "sqrt": {
      const root = s.pick([`\\sqrt{${v.k}}`, `\\sqrt ${v.k}`, `√${v.k}`, `\\sqrt{${v.k}}`]);
      return v.c === 1 ? root : s.pick([`${v.c}${root}`, `${v.c}\\cdot${root}`, `${v.c} \\times ${root}`]);
    }
    case "pi":
      return v.q === 1
        ? s.pick([`${v.p}\\pi`, `${v.p}π`, `${v.p} \\pi`])
        : s.pick([`\\frac{${v.p}\\pi}{${v.q}}`, `\\frac{${v.p}}{${v.q}}\\pi`, `${v.p}π/${v.q}`]);
  }
}

function writePoly(coefs: number[], x: string, s: Style): string {
  const terms: string[] = [];
  for (let i = coefs.length - 1; i >= 0; i--) {
    const c = coefs[i] as number;
    if (c === 0) continue;
    const mag = Math.abs(c);
    const pow = i === 0 ? "" : i === 1 ? x : s.pick([`${x}^${i}`, `${x}^{${i}}`]);
    const coef = i > 0 && mag === 1 ? "" : String(mag);
    const term = `${coef}${i > 0 && coef ? s.pick(["", "", "\\cdot ", "*"]) : ""}${pow}`;
    terms.push(terms.length === 0 ? (c < 0 ? `-${term}` : term) : `${c < 0 ? " - " : " + "}${term}`);
  }
  return terms.join("") || "0";
}

export function write(v: Value, s: Style): string {
  const list = (items: Num[]) => items.map((x) => writeNum(x, s)).join(s.pick([", ", ",", ",\\ ", ", "]));
  switch (v.t) {
    case "num":
      return writeNum(v.v, s);
    case "tuple":
      return s.pick([`(${list(v.items)})`, `\\left(${list(v.items)}\\right)`]);
    case "set":
      return s.pick([
        `\\{${list(v.items)}\\}`,
        `\\left\\{${list(v.items)}\\right\\}`,
        `\\lbrace ${list(v.items)}\\rbrace`,
      ]);
    case "interval": {
      const lo = v.a === null ? s.pick(["-\\infty", "-∞"]) : String(v.a);
      const hi = v.b === null ? s.pick(["\\infty", "+\\infty", "∞"]) : String(v.b);
      const body = `${v.lc ? "[" : "("}${lo}, ${hi}${v.rc ? "]" : ")"}`;
      return s.pick([body, body, `\\left${body[0]}${lo}, ${hi}\\right${body[body.length - 1]}`]);
    }
    case "matrix": {
      const env = s.pick(["pmatrix", "bmatrix"]);
      return `\\begin{${env}} ${v.rows.map((r) => r.join(" & ")).join(" \\\\ ")} \\end{${env}}`;
    }
    case "eq":
      return s.pick([`${v.x} = ${writeNum(v.v, s)}`, `${v.x}=${writeNum(v.v, s)}`, writeNum(v.v, s)]);
    case "ineq":
      return s.pick([
        `${v.x} ${v.op} ${v.n}`,
        `${v.x}${v.op === "\\le" ? "≤" : v.op === "\\ge" ? "≥" : v.op}${v.n}`,
      ]);
    case "poly":
      return writePoly(v.coefs, "x", s);
    case "unit":
      return s.pick([
        `${writeNum(v.v, s)}\\text{ ${v.unit}}`,
        `${writeNum(v.v, s)} \\mathrm{${v.unit}}`,
        `${writeNum(v.v, s)} ${v.unit}`,
      ]);
    case "deg":
      return s.pick([`${v.n}^\\circ`, `${v.n}^{\\circ}`, `${v.n}°`, `${v.n} degrees`]);
    case "pct":
      return s.pick([`${v.n}\\%`, `${v.n}%`, `${v.n} \\%`]);
    case "choice":
      return s.pick([
        v.letter,
        `(${v.letter})`,
        `\\text{(${v.letter})}`,
        `\\textbf{${v.letter}}`,
        `${v.letter}.`,
      ]);
    case "word":
      return s.pick([v.w, `\\text{${v.w}}`, `\\text{ ${v.w} }`, `\\textbf{${v.w}}`]);
  }
}

// ---------------------------------------------------------------- expressions

/** Integer literals, some of them big: exponents and factorials of these are where exact arithmetic explodes. */
const literal = fc.oneof(
  { weight: 6, arbitrary: fc.integer({ min: 0, max: 12 }).map(String) },
  { weight: 2, arbitrary: fc.integer({ min: 13, max: 1000 }).map(String) },
  {
    weight: 1,
    arbitrary: fc.constantFrom("100000", "123456789", "1000000", "99999999999", "0.5", "1.5", "3.14"),
  },
);

const atom = fc.oneof(
  { weight: 4, arbitrary: literal },
  { weight: 3, arbitrary: fc.constantFrom("x", "y", "z", "a_1", "n", "\\theta") },
  { weight: 1, arbitrary: fc.constantFrom("\\pi", "e", "i", "\\infty") },
);

/** Recursive LaTeX expressions: arithmetic, fractions, roots, powers, functions, factorials, binomials. */
export const exprArb: fc.Arbitrary<string> = fc.letrec<{ e: string }>((tie) => ({
  e: fc.oneof(
    { depthSize: "small", maxDepth: 5, withCrossShrink: true },
    atom,
    fc
      .tuple(tie("e"), fc.constantFrom(" + ", " - ", "\\cdot ", "*", "/", " ", "\\times "), tie("e"))
      .map(([a, op, b]) => `${a}${op}${b}`),
    fc.tuple(tie("e"), tie("e")).map(([a, b]) => `\\frac{${a}}{${b}}`),
    tie("e").map((a) => `\\sqrt{${a}}`),
    fc.tuple(fc.integer({ min: 2, max: 5 }), tie("e")).map(([n, a]) => `\\sqrt[${n}]{${a}}`),
    fc.tuple(tie("e"), fc.oneof(literal, tie("e"))).map(([a, b]) => `{${a}}^{${b}}`),
    tie("e").map((a) => `(${a})`),
    tie("e").map((a) => `\\left(${a}\\right)`),
    fc
      .tuple(fc.constantFrom("\\sin", "\\cos", "\\tan", "\\ln", "\\log", "\\arctan", "\\exp"), tie("e"))
      .map(([f, a]) => `${f}(${a})`),
    fc.tuple(fc.constantFrom("2", "10", "e"), tie("e")).map(([b, a]) => `\\log_{${b}}(${a})`),
    tie("e").map((a) => `(${a})!`),
    fc.tuple(tie("e"), tie("e")).map(([a, b]) => `\\binom{${a}}{${b}}`),
    tie("e").map((a) => `|${a}|`),
    tie("e").map((a) => `\\lfloor ${a} \\rfloor`),
    tie("e").map((a) => `e^{${a}}`),
  ),
})).e;

/** Rational expressions (arithmetic and integer powers only): the ones exact algebra is tried on. */
const ratExprArb: fc.Arbitrary<string> = fc.letrec<{ e: string }>((tie) => ({
  e: fc.oneof(
    { depthSize: "small", maxDepth: 4 },
    fc.oneof(literal, fc.constantFrom("x", "y")),
    fc
      .tuple(tie("e"), fc.constantFrom(" + ", " - ", "\\cdot ", "/"), tie("e"))
      .map(([a, op, b]) => `${a}${op}${b}`),
    fc.tuple(tie("e"), tie("e")).map(([a, b]) => `\\frac{${a}}{${b}}`),
    fc
      .tuple(
        tie("e"),
        literal.filter((l) => !l.includes(".")),
      )
      .map(([a, k]) => `(${a})^{${k}}`),
  ),
})).e;

/** Constants far past doubles, which no evaluation point can tell apart: left to exact algebra. */
const HUGE = [
  "{2}^{100000}",
  "{1.5}^{100000}",
  "\\frac{10^{100000}}{3^{100000}}",
  "{123456789}^{123456789}",
  "{(2^{64})^{64}}^{64}",
];

/**
 * Two expressions, one written twice in two ways, or one times a huge constant: the expensive paths
 * (evaluation points, 40-digit decimals, exact algebra).
 */
const exprPairArb = fc
  .tuple(exprArb, exprArb, ratExprArb, ratExprArb, fc.constantFrom(...HUGE), fc.nat())
  .map(([a, b, ra, rb, huge, how]) => {
    const kind = ["expr:same", "expr:pair", "expr:huge"][how % 3] as string;
    const gold = how % 3 === 2 ? ra : a;
    const response = [`(${a})+0`, b, `(${rb})\\cdot ${huge}`][how % 3] as string;
    return { kind, gold, response: `\\boxed{${response}}`, expect: "any" as const };
  });

// ---------------------------------------------------------------- responses

const PROSE = [
  "Let us compute this step by step.",
  "First, note that $x^2 - 1 = (x-1)(x+1)$.",
  "Substituting $n = 3$ gives 27, and so on.",
  "We check the case $a = 0$ separately.",
  "Hence the sum is $\\sum_{k=1}^{n} k = \\frac{n(n+1)}{2}$.",
  "So $f(2) = 7$, which is odd.",
  "The discriminant is $b^2 - 4ac = 16$.",
  "Wait, that is not right; let me recheck 12 * 4 = 48.",
  "Using \\(\\sin^2\\theta + \\cos^2\\theta = 1\\) we get it.",
  "Therefore $\\{1, 2\\} \\cup [3, 4)$ is covered.",
];

const proseArb = fc.array(fc.constantFrom(...PROSE), { maxLength: 6 }).map((xs) => xs.join(" "));

/** Where a response puts its final answer. */
function wrapResponse(answer: string, prose: string, how: number): string {
  const forms = [
    () => answer,
    () => `\\boxed{${answer}}`,
    () => `${prose}\n\nThe final answer is $\\boxed{${answer}}$.`,
    () => `<think>${prose}</think>\n${prose}\n\\boxed{${answer}}`,
    () => `${prose}\nThe answer is $${answer}$. I hope it is correct.`,
    () => `${prose}\n**Answer:** ${answer}`,
    () => `${prose}\n#### ${answer}`,
    () => `${prose}\n\\[\n\\boxed{${answer}}\n\\]`,
    () => `${prose} \\fbox{${answer}}`,
    () => `$${answer}$`,
  ];
  return (forms[how % forms.length] as () => string)();
}

function wrapGold(gold: string, how: number): string {
  return [gold, gold, `$${gold}$`, `\\boxed{${gold}}`][how % 4] as string;
}

const styleArb = fc.array(fc.nat(), { minLength: 8, maxLength: 8 }).map((p) => new Style(p));

/** A value, written one way as the gold and another way as the response (informative only: should match). */
const questionSize = fc.oneof(
  { weight: 9, arbitrary: fc.nat({ max: 4000 }) },
  { weight: 1, arbitrary: fc.nat({ max: ITEM_LIMIT }) },
);
const selfArb = fc
  .tuple(valueArb, styleArb, styleArb, proseArb, fc.nat(), fc.nat(), questionSize)
  .map(([v, s1, s2, prose, h1, h2, qSize]) => {
    const gold = write(v, s1);
    const questions = [
      undefined,
      `${prose} Compute $${write(v, s2)}$.`,
      repeatTo(`${prose} $${gold}$ `, qSize),
    ];
    return {
      kind: `self:${v.t}`,
      gold: wrapGold(gold, h1),
      response: wrapResponse(write(v, s2), prose, h2),
      expect: "any" as const,
      question: questions[h1 % 3],
    };
  });

/** The response's value against a gold that is certainly a different value: never a match. */
const nearMissArb = fc
  .tuple(valueArb, fc.nat(), styleArb, styleArb, proseArb, fc.nat(), fc.nat())
  .map(([v, pick, s1, s2, prose, h1, h2]) => ({
    kind: `near-miss:${v.t}`,
    gold: wrapGold(write(nearMiss(v, pick), s1), h1),
    response: wrapResponse(write(v, s2), prose, h2),
    expect: "not-match" as const,
  }));

const EMPTY = [
  "",
  " ",
  "\n\n",
  "\\boxed{}",
  "\\boxed{ }",
  "\\boxed{\\,}",
  "\\boxed{\\text{}}",
  "\\fbox{}",
  "$$",
  "$ $",
  "\\[\\]",
  "The answer is",
  "The answer is .",
  "Answer:",
  "####",
  "</think>",
  "<think>",
  "**Answer:**",
  "{}",
  "\\left.\\right.",
];

/** Goldens with a digit, against answers with no letter or digit at all: nothing there can equal them. */
const PUNCT = [..."()[]{}+-*/^_,;:|<>=!?&%#@~'\". "];
const emptyArb = fc
  .tuple(valueArb, styleArb, fc.constantFrom(...EMPTY), proseArb, fc.nat())
  .filter(([v]) => v.t !== "choice" && v.t !== "word")
  .map(([v, s, empty, prose, how]) => ({
    kind: "empty",
    gold: write(v, s),
    response:
      how % 3 === 0 ? `<think>${prose}` : how % 3 === 1 ? empty : `${prose.replace(/\d/g, "")} ${empty}`,
    expect: "not-match" as const,
  }));
const garbledArb = fc
  .tuple(
    valueArb,
    styleArb,
    fc.string({ unit: fc.constantFrom(...PUNCT), minLength: 1, maxLength: 40 }),
    fc.nat(),
  )
  .map(([v, s, junk, how]) => ({
    kind: "garbled",
    gold: write(v, s),
    response: [junk, `\\boxed{${junk}}`, `The answer is $${junk}$.`][how % 3] as string,
    expect: "not-match" as const,
  }))
  .filter((c) => /\d/.test(c.gold));

// ---------------------------------------------------------------- noise, size, depth

export const PIECES = [
  ..."0123456789+-*/^_=<>()[]{},.;:|!&%$#'~ \n\\",
  "\\frac",
  "\\dfrac",
  "\\sqrt",
  "\\sqrt[3]",
  "\\{",
  "\\}",
  "\\left(",
  "\\right)",
  "\\left[",
  "\\right]",
  "\\left\\{",
  "\\right.",
  "\\le",
  "\\ge",
  "\\ne",
  "\\pm",
  "\\mp",
  "\\infty",
  "\\pi",
  "\\cdot",
  "\\times",
  "\\div",
  "\\circ",
  "^\\circ",
  "\\%",
  "\\text{",
  "\\textbf{",
  "\\mathrm{",
  "\\mathbf{",
  "\\mathbb{R}",
  "\\operatorname{",
  "\\cup",
  "\\cap",
  "\\in",
  "\\setminus",
  "\\emptyset",
  "\\begin{pmatrix}",
  "\\end{pmatrix}",
  "\\begin{array}{cc}",
  "\\end{array}",
  "\\begin{cases}",
  "\\end{cases}",
  "&",
  "\\\\",
  "\\sin",
  "\\cos",
  "\\tan",
  "\\arcsin",
  "\\ln",
  "\\log",
  "\\log_",
  "\\exp",
  "\\binom",
  "\\lfloor",
  "\\rfloor",
  "\\lceil",
  "\\rceil",
  "\\langle",
  "\\rangle",
  "\\cdots",
  "\\ldots",
  "\\boxed{",
  "\\fbox{",
  "</think>",
  "<think>",
  "<sup>",
  "</sup>",
  "<sub>",
  "\\,",
  "\\!",
  "\\;",
  "\\quad",
  "\\displaystyle",
  "{,}",
  "1,000",
  "0.5",
  "1e10",
  "x",
  "y",
  "n",
  "e",
  "i",
  "a",
  "b",
  "f(x)",
  "and",
  "or",
  "the answer is ",
  "Answer:",
  "####",
  "√",
  "∛",
  "π",
  "∞",
  "≤",
  "≥",
  "≠",
  "−",
  "×",
  "·",
  "°",
  "½",
  "²",
  "，",
  "（",
  "\u00a0",
  "\t",
  "\f",
  "\b",
  "\r",
  "\\\\frac",
  "st",
  "th",
  "degrees",
];

const soupArb = fc.array(fc.constantFrom(...PIECES), { maxLength: 80 }).map((xs) => xs.join(""));

/** Random strings: any code points (lone surrogates too), graphemes, ASCII. */
const stringArb = fc.oneof(
  fc.string({ unit: "binary", maxLength: 200 }),
  fc.string({ unit: "grapheme", maxLength: 100 }),
  fc.string({ unit: "binary-ascii", maxLength: 300 }),
);

const noiseArb = fc
  .tuple(
    fc.oneof(soupArb, stringArb),
    fc.oneof(
      soupArb,
      stringArb,
      selfArb.map((c) => c.gold),
    ),
    fc.nat(),
  )
  .map(([a, b, how]) => ({
    kind: "noise",
    gold: how % 2 === 0 ? b : a,
    response: how % 3 === 0 ? `\\boxed{${a}}` : how % 3 === 1 ? a : `The answer is ${a}`,
    expect: "any" as const,
  }));

/** A well-formed response cut, spliced, duplicated or salted with pieces at random places. */
const mutatedArb = fc
  .tuple(
    fc.oneof(selfArb, nearMissArb),
    fc.array(fc.tuple(fc.nat(), fc.nat(), fc.nat(), fc.constantFrom(...PIECES)), {
      minLength: 1,
      maxLength: 6,
    }),
  )
  .map(([c, edits]) => {
    let r = c.response;
    for (const [op, at, len, piece] of edits) {
      const i = at % (r.length + 1);
      const j = Math.min(r.length, i + (len % 12));
      r =
        op % 4 === 0
          ? r.slice(0, i) + piece + r.slice(i)
          : op % 4 === 1
            ? r.slice(0, i) + r.slice(j)
            : op % 4 === 2
              ? r.slice(0, j) + r.slice(i, j) + r.slice(j)
              : r.slice(0, i) + piece + r.slice(j);
    }
    return { kind: "mutated", gold: c.gold, response: r, expect: "any" as const };
  });

/** Units repeated to fill an input: each stresses a different scan. */
const UNITS_OF_BULK = [
  "word ",
  "1",
  "12 ",
  "\\boxed{1}",
  "\\boxed{",
  "{",
  "}",
  "\\",
  "$",
  "$1$ ",
  "(",
  "\\frac{",
  "<sup>",
  "\\left(",
  "1,",
  "x^",
  "the answer is ",
  "Answer: 1\n",
  "\n",
  "√",
  "####",
  "</think>",
  "<think>",
  "\\text{",
  "\\[",
  "a+",
  "\\{1,2\\}\\cup",
  " ",
  "\ud800",
  "😀",
];

const sizeArb = fc.oneof(
  { weight: 2, arbitrary: fc.integer({ min: 4096, max: 65536 }) },
  { weight: 2, arbitrary: fc.integer({ min: 65536, max: 262144 }) },
  { weight: 1, arbitrary: fc.integer({ min: 262144, max: ITEM_LIMIT }) },
);

/** Up to the 1 MiB item limit, in the response or the gold, with or without a final answer after it. */
const giantArb = fc
  .tuple(fc.constantFrom(...UNITS_OF_BULK), sizeArb, fc.nat(), selfArb)
  .map(([unit, size, how, c]) => {
    const bulk = repeatTo(unit, size);
    const forms = [
      () => ({ gold: c.gold, response: bulk }),
      () => ({ gold: c.gold, response: `${bulk}\n\\boxed{${"3"}}` }),
      () => ({ gold: c.gold, response: `\\boxed{${bulk}}` }),
      () => ({ gold: c.gold, response: `${bulk}${c.response}` }),
      () => ({ gold: bulk, response: c.response }),
      () => ({ gold: `\\boxed{${bulk}}`, response: bulk }),
    ];
    return {
      kind: `giant:${how % forms.length}`,
      ...(forms[how % forms.length] as () => object)(),
      expect: "any" as const,
    } as RuleCase;
  });

/** Just under the 4,000-char answer limit: the longest inputs the verifier fully parses and compares. */
const EXPENSIVE = [
  "x^{2}+",
  "\\sqrt{2}+",
  "\\frac{1}{x}+",
  "(1,2),",
  "[1,2)\\cup",
  "\\{1,2\\},",
  "1 & 2 \\\\",
  "\\sin(x)+",
  "2^{",
  "x_{1}+",
  "\\binom{10}{5}+",
  "9!+",
  "(x+1)(x-1)",
  "a*b*c+",
  "x_1 y_2 z_3 + ",
  "\\pi^{\\pi}+",
  "e^{x}",
  "\\ln(x)\\cdot",
  "10^{10}\\cdot",
  "1.5\\times10^{3}+",
  "x=1,",
  "x\\le",
  "\\text{a}",
  "f(x)=",
  "\\arcsin(\\frac{1}{2})+",
];
const nearLimitArb = fc
  .tuple(fc.constantFrom(...EXPENSIVE), fc.integer({ min: 1000, max: 3990 }), fc.nat(), selfArb)
  .map(([unit, size, how, c]) => {
    const body = repeatTo(unit, size)
      .slice(0, 3990)
      .replace(/[+,\\]*$/, "");
    const gold = how % 3 === 0 ? body : how % 3 === 1 ? c.gold : `${body.slice(0, 1990)}1`;
    const response = how % 2 === 0 ? `\\boxed{${body}}` : body;
    return { kind: "near-limit", gold, response, expect: "any" as const };
  });

/** Elements of long lists and sets: the verifier pairs them up, so these cost it the most per char. */
const ELEMENTS: ((i: number) => string)[] = [
  (i) => `${i}`,
  (i) => `x+${i}`,
  (i) => `x^{2}+${i}x`,
  (i) => `(${i},${i + 1})`,
  (i) => `x=${i}`,
  (i) => `\\sqrt{${i + 2}}`,
  (i) => `\\frac{${i}}{7}`,
  (i) => `x_{${i}}`,
  (i) => `[${2 * i},${2 * i + 1}]`,
  (i) => `${i}\\pi`,
  (i) => `\\sin(${i}x)`,
  (i) => `e^{${i}x}`,
  (i) => `x^{${i}}`,
  (i) => `a_{${i}}b+${i}`,
];

/**
 * Lists and sets of up to hundreds of distinct elements, just under the answer limit: the gold is the
 * same elements in another order (anything goes) or with one element swapped for a new one (a near miss).
 */
const listArb = fc
  .tuple(fc.constantFrom(...ELEMENTS), fc.integer({ min: 2, max: 800 }), fc.nat(), fc.nat())
  .map(([element, n, how, pick]) => {
    const items: string[] = [];
    for (let i = 0, len = 0; i < n && len < 3900; i++) {
      items.push(element(i));
      len += (items[i] as string).length + 1;
    }
    while (items.join(",").length > 3960) items.pop();
    const near = how % 2 === 0;
    const other = [...items].reverse();
    if (near) other[pick % other.length] = element(items.length + 1 + (pick % 7));
    const wrap = [(xs: string[]) => xs.join(", "), (xs: string[]) => `\\{${xs.join(",")}\\}`][
      (how >> 1) % 2
    ] as (xs: string[]) => string;
    return {
      kind: `list:${near ? "near-miss" : "reordered"}`,
      gold: wrap(other),
      response: `\\boxed{${wrap(items)}}`,
      expect: near ? ("not-match" as const) : ("any" as const),
    };
  });

const OPENERS: [string, string][] = [
  ["(", ")"],
  ["{", "}"],
  ["[", "]"],
  ["\\{", "\\}"],
  ["\\left(", "\\right)"],
  ["\\frac{1}{", "}"],
  ["\\sqrt{", "}"],
  ["2^{", "}"],
  ["\\text{", "}"],
  ["\\boxed{", "}"],
  ["\\begin{pmatrix}", "\\end{pmatrix}"],
  ["<sup>", "</sup>"],
  ["|", "|"],
  ["\\lfloor ", "\\rfloor"],
  ["-", ""],
  ["\\sin ", ""],
];

/** Nesting hundreds to hundreds of thousands deep, closed or not, boxed or bare. */
const deepArb = fc
  .tuple(
    fc.constantFrom(...OPENERS),
    fc.oneof(fc.integer({ min: 50, max: 2000 }), fc.integer({ min: 2000, max: 100_000 })),
    fc.nat(),
    fc.constantFrom("1", "x", "\\frac{1}{2}", ""),
  )
  .map(([[open, close], depth, how, core]) => {
    const closed = how % 2 === 0;
    const body = open.repeat(depth) + core + (closed ? close.repeat(depth) : "");
    const response = [body, `\\boxed{${body}}`, `The answer is $${body}$`][how % 3] as string;
    const gold = how % 5 === 0 ? body : "1";
    return {
      kind: "deep",
      gold: gold.slice(0, ITEM_LIMIT),
      response: response.slice(0, ITEM_LIMIT),
      expect: "any" as const,
    };
  });

/** Every kind of case, weighted towards the ones with something to say about correctness. */
export const ruleCase: fc.Arbitrary<RuleCase> = fc.oneof(
  { weight: 200, arbitrary: nearMissArb },
  { weight: 100, arbitrary: selfArb },
  { weight: 40, arbitrary: emptyArb },
  { weight: 40, arbitrary: garbledArb },
  { weight: 150, arbitrary: noiseArb },
  { weight: 150, arbitrary: mutatedArb },
  { weight: 80, arbitrary: exprPairArb },
  { weight: 40, arbitrary: nearLimitArb },
  { weight: 10, arbitrary: giantArb },
  { weight: 20, arbitrary: deepArb },
  // Many of these run to the budget (2 s): rare, so a million inputs take hours, not days.
  { weight: 1, arbitrary: listArb },
);

/** One arbitrary per kind, for tests that want each kind covered. */
export const ruleCases = {
  nearMiss: nearMissArb,
  self: selfArb,
  empty: emptyArb,
  garbled: garbledArb,
  noise: noiseArb,
  mutated: mutatedArb,
  expr: exprPairArb,
  nearLimit: nearLimitArb,
  list: listArb,
  giant: giantArb,
  deep: deepArb,
};
