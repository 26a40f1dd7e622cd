/** 40-digit real evaluation (mathjs BigNumber) to confirm what doubles cannot resolve. */

import type { Node } from "./ast.js";
import type { Budget } from "./budget.js";
import { type Domain, evaluate } from "./evaluate.js";
import { createMath } from "./mathjs.js";
import { EvaluationError, evalComplex, evalExact } from "./numeric.js";
import type { Rational } from "./rational.js";
import { freeSymbols } from "./symbols.js";

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

/**
 * Working precision: 40 digits, or more when the expressions hold big exact integers
 * (sqrt(10^40 + 1) differs from 10^20 only in the 41st digit). Past MAX_DIGITS nothing is confirmed.
 */
const BASE_DIGITS = 40;
const MAX_DIGITS = 320;

interface BigContext {
  domain: Domain<Big>;
  big: (x: string | number) => Big;
}

const contexts = new Map<number, BigContext>();

function contextFor(digits: number): BigContext {
  let ctx = contexts.get(digits);
  if (ctx) return ctx;
  const bigMath = createMath({ precision: digits });
  const big = (x: string | number) => bigMath.bignumber(x) as unknown as Big;
  const PI = big(-1).acos();
  const E = big(1).exp();
  const ONE = big(1);
  const ratBig = (q: Rational) => big(q.n.toString()).div(big(q.d.toString()));
  const domain: Domain<Big> = {
    num: ratBig,
    constant: (name) => (name === "pi" ? PI : name === "e" ? E : undefined),
    neg: (a) => a.neg(),
    add: (a, b) => a.plus(b),
    sub: (a, b) => a.minus(b),
    mul: (a, b) => a.times(b),
    div: (a, b) => a.div(b),
    // Negative bases only to integer powers (else complex).
    pow: (a, b) => (a.isNegative() && !b.isInteger() ? undefined : a.pow(b)),
    unit: (unit, a) => (unit === "deg" ? a.times(PI).div(big(180)) : a.div(big(100))),
    call: (fn, args) => bigCall(fn, args, ONE),
  };
  ctx = { domain, big };
  contexts.set(digits, ctx);
  return ctx;
}

/** Digits needed for the exact integers in these trees (powers of two buckets), or undefined past the cap. */
export function digitsFor(nodes: Node[]): number | undefined {
  let most = 0;
  const walk = (n: Node): void => {
    if (freeSymbols(n).size === 0) {
      const q = evalExact(n, new Map());
      if (q) {
        most = Math.max(most, q.n.toString().length + q.d.toString().length);
        return;
      }
      // Too big to hold exactly (10^{1000}): size it from its magnitude; past doubles, give up.
      const size = magnitude(n);
      if (!Number.isFinite(size)) most = Number.POSITIVE_INFINITY;
      else if (size > 1) most = Math.max(most, Math.ceil(Math.log10(size)) + 1);
    }
    for (const child of children(n)) walk(child);
  };
  for (const n of nodes) walk(n);
  // 30 digits beyond the longest exact integer resolve any difference it can hide.
  let digits = BASE_DIGITS;
  while (digits < most + 30) digits *= 2;
  return digits <= MAX_DIGITS ? digits : undefined;
}

/** |value| in doubles (Infinity when it overflows), 0 when it has none. */
function magnitude(n: Node): number {
  try {
    return evalComplex(n, new Map()).abs();
  } catch (e) {
    if (e instanceof EvaluationError) return 0;
    throw e;
  }
}

function children(n: Node): Node[] {
  switch (n.k) {
    case "bin":
      return [n.a, n.b];
    case "neg":
    case "unit":
      return [n.a];
    case "call":
      return n.args;
    default:
      return [];
  }
}

/** Real value to `digits` digits, or undefined when it leaves the reals or uses what decimal.js lacks. */
export function evalBig(
  node: Node,
  env: ReadonlyMap<string, Rational>,
  digits: number,
  budget?: Budget,
): Big | undefined {
  const { domain } = contextFor(digits);
  const bigEnv = new Map([...env].map(([k, q]) => [k, domain.num(q) as Big]));
  const r = evaluate(node, bigEnv, domain, budget);
  return r && !r.isNaN() && r.isFinite() ? r : undefined;
}

/** |a - b| <= relTol * max(1, |a|), computed without leaving decimal.js (values may exceed doubles). */
export function bigClose(a: Big, b: Big, relTol: number, digits: number): boolean {
  const { big } = contextFor(digits);
  const scale = a.abs().lte(1) ? big(1) : a.abs();
  return a
    .minus(b)
    .abs()
    .lte(scale.times(big(relTol)));
}

function bigCall(fn: string, args: Big[], ONE: Big): Big | undefined {
  const [a, b] = args as [Big, Big | undefined];
  const unit = (x: Big) => x.abs().lte(1);
  switch (fn) {
    case "sqrt":
      return a.isNegative() ? undefined : a.sqrt();
    case "sin":
    case "cos":
    case "tan":
    case "exp":
      return a[fn]();
    case "arcsin":
      return unit(a) ? a.asin() : undefined;
    case "arccos":
      return unit(a) ? a.acos() : undefined;
    case "arctan":
      return a.atan();
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
      return b && !a.isNegative() ? a.pow(ONE.div(b)) : undefined;
    default:
      return undefined;
  }
}
