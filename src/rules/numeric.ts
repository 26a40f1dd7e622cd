/** Evaluation of syntax trees: exactly over rationals where possible, else in complex floats. */
import * as math from "mathjs";
import type { Node } from "./ast.js";
import type { Budget } from "./budget.js";
import type { Rational } from "./rational.js";
import * as Q from "./rational.js";

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

/** Exact value, or undefined when the tree leaves the rationals (pi, sqrt 2, variables not in env). */
export function evalExact(
  node: Node,
  env: ReadonlyMap<string, Rational>,
  budget?: Budget,
): Rational | undefined {
  budget?.check();
  const rec = (n: Node) => evalExact(n, env, budget);
  switch (node.k) {
    case "num":
      return node.v;
    case "sym":
      return env.get(node.name);
    case "neg": {
      const a = rec(node.a);
      return a && Q.neg(a);
    }
    case "bin": {
      const a = rec(node.a);
      if (!a) return undefined;
      const b = rec(node.b);
      if (!b) return undefined;
      switch (node.op) {
        case "+":
          return Q.add(a, b);
        case "-":
          return Q.sub(a, b);
        case "*":
          return Q.mul(a, b);
        case "/":
          return Q.div(a, b);
        case "^":
          return Q.powRat(a, b);
      }
      return undefined;
    }
    case "unit":
      if (node.unit === "pct") {
        const a = rec(node.a);
        return a && Q.mul(a, Q.rat(1n, 100n));
      }
      return undefined;
    case "call":
      return exactCall(node.fn, node.args.map(rec));
    default:
      return undefined;
  }
}

function exactCall(fn: string, args: (Rational | undefined)[]): Rational | undefined {
  if (args.some((a) => a === undefined)) return undefined;
  const [a, b] = args as Rational[];
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

/** Complex float value; throws EvaluationError for what cannot be evaluated (infinity, \cdots, sets). */
export function evalComplex(node: Node, env: ReadonlyMap<string, Complex>, budget?: Budget): Complex {
  budget?.check();
  const rec = (n: Node) => evalComplex(n, env, budget);
  switch (node.k) {
    case "num":
      return new Complex(Q.toNumber(node.v), 0);
    case "sym":
      return env.get(node.name) ?? fail(`free symbol ${node.name}`);
    case "const":
      return node.name === "pi" ? PI : node.name === "e" ? E : node.name === "i" ? I : fail("infinity");
    case "neg":
      return rec(node.a).neg();
    case "bin": {
      const a = rec(node.a);
      const b = rec(node.b);
      switch (node.op) {
        case "+":
          return a.add(b);
        case "-":
          return a.sub(b);
        case "*":
          return a.mul(b);
        case "/":
          return a.div(b);
        case "^":
          return powC(a, b);
      }
      return fail("op");
    }
    case "unit":
      return node.unit === "deg" ? rec(node.a).mul(DEG) : rec(node.a).div(100);
    case "call":
      return complexCall(node.fn, node.args.map(rec));
    default:
      return fail(`cannot evaluate ${node.k}`);
  }
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

function complexCall(fn: string, args: Complex[]): Complex {
  const a = args[0] ?? fail("no argument");
  const b = args[1];
  switch (fn) {
    case "sqrt":
      return a.sqrt();
    case "root":
      if (!b) return fail("root index");
      // Odd roots of negative reals are real.
      if (a.im === 0 && a.re < 0 && b.im === 0 && Number.isInteger(b.re) && b.re % 2 === 1)
        return new Complex(-((-a.re) ** (1 / b.re)), 0);
      return a.pow(ONE.div(b));
    case "sin":
      return a.sin();
    case "cos":
      return a.cos();
    case "tan":
      return a.tan();
    case "cot":
      return a.cot();
    case "sec":
      return a.sec();
    case "csc":
      return a.csc();
    case "arcsin":
      return a.asin();
    case "arccos":
      return a.acos();
    case "arctan":
      return a.atan();
    case "arccot":
      return a.acot();
    case "sinh":
      return a.sinh();
    case "cosh":
      return a.cosh();
    case "tanh":
      return a.tanh();
    case "exp":
      return a.exp();
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

/** The part of decimal.js (mathjs BigNumber) used for high-precision confirmation. */
export interface Big {
  plus(b: Big): Big;
  minus(b: Big): Big;
  times(b: Big): Big;
  div(b: Big): Big;
  pow(b: Big): Big;
  neg(): Big;
  abs(): Big;
  sqrt(): Big;
  exp(): Big;
  ln(): Big;
  sin(): Big;
  cos(): Big;
  tan(): Big;
  asin(): Big;
  acos(): Big;
  atan(): Big;
  floor(): Big;
  ceil(): Big;
  isFinite(): boolean;
  isNaN(): boolean;
  isInteger(): boolean;
  isNegative(): boolean;
  toNumber(): number;
  lte(b: Big | number): boolean;
}

/** 40 digits: far past doubles, cheap enough to run on every accepted inexact comparison. */
const bigMath = math.create(math.all as math.FactoryFunctionMap, { precision: 40 });
const big = (x: string | number) => bigMath.bignumber(x) as unknown as Big;
const BIG_PI = big(-1).acos();
const BIG_E = big(1).exp();
const BIG_ONE = big(1);

/** Real value to 40 digits, or undefined when it leaves the reals or uses what decimal.js lacks. */
export function evalBig(node: Node, env: ReadonlyMap<string, Rational>, budget?: Budget): Big | undefined {
  budget?.check();
  const r = evalBigInner(node, env, budget);
  return r && !r.isNaN() && r.isFinite() ? r : undefined;
}

function ratBig(q: Rational): Big {
  return big(q.n.toString()).div(big(q.d.toString()));
}

function evalBigInner(node: Node, env: ReadonlyMap<string, Rational>, budget?: Budget): Big | undefined {
  const rec = (n: Node) => evalBig(n, env, budget);
  switch (node.k) {
    case "num":
      return ratBig(node.v);
    case "sym": {
      const q = env.get(node.name);
      return q && ratBig(q);
    }
    case "const":
      return node.name === "pi" ? BIG_PI : node.name === "e" ? BIG_E : undefined;
    case "neg":
      return rec(node.a)?.neg();
    case "unit": {
      const a = rec(node.a);
      return a && (node.unit === "deg" ? a.times(BIG_PI).div(big(180)) : a.div(big(100)));
    }
    case "bin": {
      const a = rec(node.a);
      const b = a && rec(node.b);
      if (!a || !b) return undefined;
      switch (node.op) {
        case "+":
          return a.plus(b);
        case "-":
          return a.minus(b);
        case "*":
          return a.times(b);
        case "/":
          return a.div(b);
        case "^":
          // Negative bases only to integer powers (else complex).
          return a.isNegative() && !b.isInteger() ? undefined : a.pow(b);
      }
      return undefined;
    }
    case "call": {
      const args = node.args.map(rec);
      if (args.some((x) => x === undefined)) return undefined;
      return bigCall(node.fn, args as Big[]);
    }
    default:
      return undefined;
  }
}

function bigCall(fn: string, args: Big[]): Big | undefined {
  const [a, b] = args as [Big, Big | undefined];
  const unit = (x: Big) => x.abs().lte(1);
  switch (fn) {
    case "sqrt":
      return a.isNegative() ? undefined : a.sqrt();
    case "sin":
      return a.sin();
    case "cos":
      return a.cos();
    case "tan":
      return a.tan();
    case "arcsin":
      return unit(a) ? a.asin() : undefined;
    case "arccos":
      return unit(a) ? a.acos() : undefined;
    case "arctan":
      return a.atan();
    case "exp":
      return a.exp();
    case "ln":
      return a.isNegative() ? undefined : a.ln();
    case "log":
      if (a.isNegative()) return undefined;
      return b ? (b.isNegative() ? undefined : a.ln().div(b.ln())) : a.ln();
    case "abs":
      return a.abs();
    case "floor":
      return a.floor();
    case "ceil":
      return a.ceil();
    case "root":
      return b && !a.isNegative() ? a.pow(BIG_ONE.div(b)) : undefined;
    default:
      return undefined;
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

/** Free symbols of a tree, in first-seen order. */
export function freeSymbols(node: Node, out: Set<string> = new Set()): Set<string> {
  switch (node.k) {
    case "sym":
      out.add(node.name);
      break;
    case "bin":
    case "setop":
      freeSymbols(node.a, out);
      freeSymbols(node.b, out);
      break;
    case "neg":
    case "unit":
      freeSymbols(node.a, out);
      break;
    case "pm":
      if (node.a) freeSymbols(node.a, out);
      freeSymbols(node.b, out);
      break;
    case "call":
    case "group":
    case "set":
    case "list":
      for (const a of node.k === "call" ? node.args : node.items) freeSymbols(a, out);
      break;
    case "rel":
      for (const a of node.items) freeSymbols(a, out);
      break;
    case "builder":
      freeSymbols(node.v, out);
      freeSymbols(node.cond, out);
      break;
    case "matrix":
      for (const r of node.rows) for (const a of r) freeSymbols(a, out);
      break;
    default:
      break;
  }
  return out;
}

/** Renames symbols (a map old -> new) throughout a tree. */
export function renameSymbols(node: Node, map: ReadonlyMap<string, string>): Node {
  if (map.size === 0) return node;
  const rec = (n: Node) => renameSymbols(n, map);
  switch (node.k) {
    case "sym":
      return map.has(node.name) ? { k: "sym", name: map.get(node.name) as string } : node;
    case "bin":
      return { ...node, a: rec(node.a), b: rec(node.b) };
    case "setop":
      return { ...node, a: rec(node.a), b: rec(node.b) };
    case "neg":
      return { ...node, a: rec(node.a) };
    case "unit":
      return { ...node, a: rec(node.a) };
    case "pm":
      return { ...node, a: node.a && rec(node.a), b: rec(node.b) };
    case "call":
      return { ...node, args: node.args.map(rec) };
    case "group":
    case "set":
    case "list":
      return { ...node, items: node.items.map(rec) } as Node;
    case "rel":
      return { ...node, items: node.items.map(rec) };
    case "builder":
      return { ...node, v: rec(node.v), cond: rec(node.cond) };
    case "matrix":
      return { ...node, rows: node.rows.map((r) => r.map(rec)) };
    default:
      return node;
  }
}
