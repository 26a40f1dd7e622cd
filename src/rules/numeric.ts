/** Evaluation of syntax trees: exactly over rationals where possible, else in complex floats. */

import type { Node } from "./ast.js";
import type { Budget } from "./budget.js";
import { type Domain, evaluate } from "./evaluate.js";
import { math } from "./mathjs.js";
import type { Rational } from "./rational.js";
import * as Q from "./rational.js";
import { freeSymbols } from "./symbols.js";

export class EvaluationError extends Error {}

/** The part of mathjs's Complex (complex.js) used here; its bundled typings omit the methods. */
export interface Complex {
  re: number;
  im: number;
  add(b: Complex | number): Complex;
  sub(b: Complex | number): Complex;
  mul(b: Complex | number): Complex;
  div(b: Complex | number): Complex;
  pow(b: Complex | number): Complex;
  neg(): Complex;
  abs(): number;
  sqrt(): Complex;
  exp(): Complex;
  log(): Complex;
  floor(places: number): Complex;
  ceil(places: number): Complex;
  sin(): Complex;
  cos(): Complex;
  tan(): Complex;
  cot(): Complex;
  sec(): Complex;
  csc(): Complex;
  asin(): Complex;
  acos(): Complex;
  atan(): Complex;
  acot(): Complex;
  sinh(): Complex;
  cosh(): Complex;
  tanh(): Complex;
}
export const Complex = (math as unknown as { Complex: unknown }).Complex as new (
  re: number,
  im: number,
) => Complex;
/** mathjs returns a plain number for real arguments. */
const gammaC = (z: Complex): Complex => {
  const r = (math.gamma as unknown as (z: Complex) => Complex | number)(z);
  return typeof r === "number" ? new Complex(r, 0) : r;
};

const fail = (why: string): never => {
  throw new EvaluationError(why);
};

const EXACT: Domain<Rational> = {
  num: (q) => q,
  constant: () => undefined,
  neg: Q.neg,
  add: Q.add,
  sub: Q.sub,
  mul: Q.mul,
  div: Q.div,
  pow: Q.powRat,
  unit: (unit, a) => (unit === "pct" ? Q.mul(a, Q.rat(1n, 100n)) : undefined),
  call: exactCall,
};

/** Exact value, or undefined when the tree leaves the rationals (pi, sqrt 2, variables not in env). */
export function evalExact(
  node: Node,
  env: ReadonlyMap<string, Rational>,
  budget?: Budget,
): Rational | undefined {
  return evaluate(node, env, EXACT, budget);
}

function exactCall(fn: string, args: Rational[]): Rational | undefined {
  const [a, b] = args;
  if (!a) return undefined;
  switch (fn) {
    case "sqrt":
      return Q.powRat(a, Q.rat(1n, 2n));
    case "root":
      return b && Q.isInt(b) && b.n > 0n ? Q.powRat(a, Q.rat(1n, b.n)) : undefined;
    case "abs":
      return a.n < 0n ? Q.neg(a) : a;
    case "floor":
    case "ceil": {
      let q = a.n / a.d;
      if (fn === "floor" && a.n < 0n && q * a.d !== a.n) q -= 1n;
      if (fn === "ceil" && a.n > 0n && q * a.d !== a.n) q += 1n;
      return Q.rat(q);
    }
    case "fact":
      return Q.factorial(a);
    case "binom":
      return b && Q.binomial(a, b);
    default:
      return undefined;
  }
}

const PI = new Complex(Math.PI, 0);
const E = new Complex(Math.E, 0);
const I = new Complex(0, 1);
const ONE = new Complex(1, 0);
const DEG = new Complex(Math.PI / 180, 0);

const COMPLEX: Domain<Complex> = {
  num: (q) => new Complex(Q.toNumber(q), 0),
  constant: (name) => (name === "pi" ? PI : name === "e" ? E : name === "i" ? I : fail("infinity")),
  neg: (a) => a.neg(),
  add: (a, b) => a.add(b),
  sub: (a, b) => a.sub(b),
  mul: (a, b) => a.mul(b),
  div: (a, b) => a.div(b),
  pow: powC,
  unit: (unit, a) => (unit === "deg" ? a.mul(DEG) : a.div(100)),
  call: complexCall,
};

/** Complex float value; throws EvaluationError for what cannot be evaluated (infinity, \cdots, sets). */
export function evalComplex(node: Node, env: ReadonlyMap<string, Complex>, budget?: Budget): Complex {
  return evaluate(node, env, COMPLEX, budget) ?? fail(`cannot evaluate ${node.k}`);
}

/** Real bases to integer powers stay real (complex pow would add rounding noise in the imaginary part). */
function powC(a: Complex, b: Complex): Complex {
  let r: Complex;
  if (b.im === 0 && Number.isInteger(b.re) && Math.abs(b.re) <= 64) {
    r = ONE;
    const base = b.re < 0 ? ONE.div(a) : a;
    for (let k = 0; k < Math.abs(b.re); k++) r = r.mul(base);
  } else r = a.pow(b);
  // x^1000000 and x^999999 both underflow to 0 at |x| < 1: a zero from a non-zero base proves nothing.
  if (r.re === 0 && r.im === 0 && (a.re !== 0 || a.im !== 0)) fail("underflow");
  return r;
}

/** Functions that are one complex.js method of the same meaning. */
const COMPLEX_METHODS = {
  sin: "sin",
  cos: "cos",
  tan: "tan",
  cot: "cot",
  sec: "sec",
  csc: "csc",
  arcsin: "asin",
  arccos: "acos",
  arctan: "atan",
  arccot: "acot",
  sinh: "sinh",
  cosh: "cosh",
  tanh: "tanh",
  exp: "exp",
} as const satisfies Record<string, keyof Complex>;

function complexCall(fn: string, args: Complex[]): Complex {
  const a = args[0] ?? fail("no argument");
  const b = args[1];
  const method = COMPLEX_METHODS[fn as keyof typeof COMPLEX_METHODS];
  if (method) return a[method]();
  switch (fn) {
    case "sqrt":
      return a.sqrt();
    case "root":
      if (!b) return fail("root index");
      // Odd roots of negative reals are real.
      if (a.im === 0 && a.re < 0 && b.im === 0 && Number.isInteger(b.re) && b.re % 2 === 1)
        return new Complex(-((-a.re) ** (1 / b.re)), 0);
      return a.pow(ONE.div(b));
    case "ln":
      return a.log();
    case "lg":
      return a.log().div(Math.LN10);
    case "log":
      // \log_b x arrives as log(x, b); a bare \log is natural (the convention in analysis answers).
      return b ? a.log().div(b.log()) : a.log();
    case "abs":
      return new Complex(a.abs(), 0);
    case "floor":
      return a.floor(0);
    case "ceil":
      return a.ceil(0);
    case "fact":
      return gammaC(a.add(1));
    case "binom":
      if (!b) return fail("binom");
      return gammaC(a.add(1)).div(gammaC(b.add(1)).mul(gammaC(a.sub(b).add(1))));
    case "max":
    case "min": {
      if (args.some((x) => x.im !== 0)) return fail("complex max/min");
      const vals = args.map((x) => x.re);
      return new Complex(fn === "max" ? Math.max(...vals) : Math.min(...vals), 0);
    }
    default:
      return fail(`function ${fn}`);
  }
}

/** The value of a closed real expression (interval endpoints), or undefined. */
export function realConstant(n: Node, budget?: Budget): number | undefined {
  if (freeSymbols(n).size > 0) return undefined;
  try {
    const z = evalComplex(n, new Map(), budget);
    return Math.abs(z.im) <= 1e-12 * Math.max(1, Math.abs(z.re)) && Number.isFinite(z.re) ? z.re : undefined;
  } catch (e) {
    if (e instanceof EvaluationError) return undefined;
    throw e;
  }
}
