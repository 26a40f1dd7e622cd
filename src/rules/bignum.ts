/** 40-digit real evaluation (mathjs BigNumber) to confirm what doubles cannot resolve. */
import * as math from "mathjs";
import type { Node } from "./ast.js";
import type { Budget } from "./budget.js";
import { type Domain, evaluate } from "./evaluate.js";
import type { Rational } from "./rational.js";

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

const BIG: Domain<Big> = {
  num: ratBig,
  constant: (name) => (name === "pi" ? BIG_PI : name === "e" ? BIG_E : undefined),
  neg: (a) => a.neg(),
  add: (a, b) => a.plus(b),
  sub: (a, b) => a.minus(b),
  mul: (a, b) => a.times(b),
  div: (a, b) => a.div(b),
  // Negative bases only to integer powers (else complex).
  pow: (a, b) => (a.isNegative() && !b.isInteger() ? undefined : a.pow(b)),
  unit: (unit, a) => (unit === "deg" ? a.times(BIG_PI).div(big(180)) : a.div(big(100))),
  call: bigCall,
};

function ratBig(q: Rational): Big {
  return big(q.n.toString()).div(big(q.d.toString()));
}

/** Real value to 40 digits, or undefined when it leaves the reals or uses what decimal.js lacks. */
export function evalBig(node: Node, env: ReadonlyMap<string, Rational>, budget?: Budget): Big | undefined {
  const bigEnv = new Map([...env].map(([k, q]) => [k, ratBig(q)]));
  const r = evaluate(node, bigEnv, BIG, budget);
  return r && !r.isNaN() && r.isFinite() ? r : undefined;
}

function bigCall(fn: string, args: Big[]): Big | undefined {
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
      return b && !a.isNegative() ? a.pow(BIG_ONE.div(b)) : undefined;
    default:
      return undefined;
  }
}
