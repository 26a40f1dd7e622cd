/**
 * Symbolic fallback with mathjs simplify, for identities that no evaluation point can show:
 * x^{1000000} vs (x^{1000})^{1000} overflows or underflows everywhere. Used only when the points were
 * inconclusive, and only on rational expressions with integer exponents, where mathjs's exact
 * fraction arithmetic cannot round a difference away (sqrt(10^40 + 1) - 10^20 would fold to 0 in floats).
 */
import type { MathJsInstance } from "mathjs";
import type { Node } from "./ast.js";
import type { Budget } from "./budget.js";
import { createMath } from "./mathjs.js";

/** Created on first use: most verifications never get here, and an instance costs an import's worth. */
let exact: MathJsInstance | undefined;

/** simplify is not interruptible: run it only on small trees with plenty of budget left. */
const MAX_NODES = 40;
const MIN_BUDGET_MS = 250;

/** mathjs folds constants exactly, and simplify cannot be stopped: past this, a power is not folded (as in rational.ts). */
const MAX_BITS = 4096;

function isIntegerLiteral(n: Node): boolean {
  if (n.k === "neg") return isIntegerLiteral(n.a);
  return n.k === "num" && n.decimals === undefined && n.v.d === 1n;
}

const bitLength = (x: bigint) => (x < 0n ? -x : x).toString(2).length;

/** An upper bound on the bits of a symbol-free tree's exact value; undefined when it has symbols. */
function constantBits(n: Node): number | undefined {
  switch (n.k) {
    case "num":
      return bitLength(n.v.n) + bitLength(n.v.d);
    case "neg":
      return constantBits(n.a);
    case "bin": {
      const a = constantBits(n.a);
      if (a === undefined) return undefined;
      if (n.op === "^") {
        const k = n.b.k === "neg" ? n.b.a : n.b;
        return k.k === "num" ? a * Number(k.v.n) : undefined;
      }
      const b = constantBits(n.b);
      return b === undefined ? undefined : a + b + 1;
    }
    default:
      return undefined;
  }
}

/** mathjs text for a rational expression with integer exponents; undefined for anything else. */
function toMathjs(n: Node, count: { nodes: number }): string | undefined {
  if (++count.nodes > MAX_NODES) return undefined;
  switch (n.k) {
    case "num":
      return `(${n.v.n}/${n.v.d})`;
    case "sym":
      // Prefixed so no symbol can name a mathjs constant or function (E, pi, f).
      return `v_${n.name.replace(/[^a-zA-Z0-9]/g, "_")}`;
    case "neg": {
      const a = toMathjs(n.a, count);
      return a && `(-${a})`;
    }
    case "bin": {
      if (n.op === "^" && !isIntegerLiteral(n.b)) return undefined;
      // 1.5^{100000} folds to a 160,000-bit fraction: seconds of gcd that no budget check can stop.
      if (n.op === "^" && (constantBits(n) ?? 0) > MAX_BITS) return undefined;
      const a = toMathjs(n.a, count);
      const b = a && toMathjs(n.b, count);
      return b && `(${a} ${n.op} ${b})`;
    }
    default:
      return undefined;
  }
}

export function simplifiesToSame(g: Node, a: Node, budget: Budget): boolean {
  if (budget.remainingMs() < MIN_BUDGET_MS) return false;
  const count = { nodes: 0 };
  const gs = toMathjs(g, count);
  const as = gs && toMathjs(a, count);
  if (!as) return false;
  try {
    exact ??= createMath({ number: "Fraction" });
    return exact.simplify(`${gs} - ${as}`).toString() === "0";
  } catch {
    return false;
  }
}
