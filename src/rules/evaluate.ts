/** One tree walk for every number domain (exact rationals, complex floats, 40-digit reals). */
import type { Node } from "./ast.js";
import type { Budget } from "./budget.js";
import type { Rational } from "./rational.js";

const BINARY = { "+": "add", "-": "sub", "*": "mul", "/": "div", "^": "pow" } as const;

/** Arithmetic in one domain; undefined means "not representable here" (pi in the rationals). */
export interface Domain<T> {
  num(q: Rational): T | undefined;
  constant(name: "pi" | "e" | "i" | "inf"): T | undefined;
  neg(a: T): T | undefined;
  add(a: T, b: T): T | undefined;
  sub(a: T, b: T): T | undefined;
  mul(a: T, b: T): T | undefined;
  div(a: T, b: T): T | undefined;
  pow(a: T, b: T): T | undefined;
  unit(unit: "deg" | "pct", a: T): T | undefined;
  call(fn: string, args: T[]): T | undefined;
}

/** Value of a tree in a domain; symbols come from env. Sets, tuples and text have no value. */
export function evaluate<T>(
  node: Node,
  env: ReadonlyMap<string, T>,
  d: Domain<T>,
  budget?: Budget,
): T | undefined {
  budget?.check();
  const rec = (n: Node) => evaluate(n, env, d, budget);
  switch (node.k) {
    case "num":
      return d.num(node.v);
    case "sym":
      return env.get(node.name);
    case "const":
      return d.constant(node.name);
    case "neg": {
      const a = rec(node.a);
      return a === undefined ? undefined : d.neg(a);
    }
    case "unit": {
      const a = rec(node.a);
      return a === undefined ? undefined : d.unit(node.unit, a);
    }
    case "bin": {
      const a = rec(node.a);
      const b = a === undefined ? undefined : rec(node.b);
      return a === undefined || b === undefined ? undefined : d[BINARY[node.op]](a, b);
    }
    case "call": {
      const args: T[] = [];
      for (const arg of node.args) {
        const v = rec(arg);
        if (v === undefined) return undefined;
        args.push(v);
      }
      return d.call(node.fn, args);
    }
    default:
      return undefined;
  }
}
