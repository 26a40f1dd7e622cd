/** Scalar equality: units, precision as written, exact constants, and expressions at seeded points. */
import { hasOpaque, type Node, nodeKey } from "./ast.js";
import { bigClose, digitsFor, evalBig } from "./bignum.js";
import type { CompareContext } from "./context.js";
import { type Complex, EvaluationError, evalComplex, evalExact } from "./numeric.js";
import { close, isFiniteC, isReal, MIN_AGREEING_POINTS, points } from "./points.js";
import type { Rational } from "./rational.js";
import * as Q from "./rational.js";
import { simplifiesToSame } from "./symbolic.js";
import { freeSymbols } from "./symbols.js";

/** Past this magnitude doubles cannot tell n from n + 1, so inexact agreement proves nothing. */
const FLOAT_TRUST_LIMIT = 1e15;

function unitOf(n: Node): "deg" | "pct" | undefined {
  return n.k === "unit" ? n.unit : undefined;
}

/** 62.5% as the number 0.625, keeping the precision it was written with. */
function percentAsNumber(inner: Node): Node {
  if (inner.k === "num") {
    const v = Q.mul(inner.v, Q.rat(1n, 100n));
    return inner.decimals === undefined
      ? { k: "num", v, text: inner.text }
      : { k: "num", v, decimals: inner.decimals + 2, text: inner.text };
  }
  return { k: "bin", op: "/", a: inner, b: { k: "num", v: Q.rat(100n), text: "100" } };
}

export function scalarEq(g: Node, a: Node, ctx: CompareContext): boolean {
  const gu = unitOf(g);
  const au = unitOf(a);
  if (gu === au)
    return gu ? scalarCore((g as { a: Node }).a, (a as { a: Node }).a, ctx) : scalarCore(g, a, ctx);
  if (gu && au) return false;
  // One side carries ° or %: equal as bare numbers (45° vs 45) or after conversion (pi/4 vs 45°, 5/8 vs 62.5%).
  const [marked, other, goldMarked] = gu ? [g, a, true] : [a, g, false];
  const unit = marked as Extract<Node, { k: "unit" }>;
  const inner = unit.a;
  const converted = unit.unit === "pct" ? percentAsNumber(inner) : marked;
  const pair = (x: Node) => (goldMarked ? scalarCore(x, other, ctx) : scalarCore(other, x, ctx));
  return pair(inner) || pair(converted);
}

interface Literal {
  decimals: number;
  sig: number;
}

/** Precision of a decimal literal as written (`-2.50` has 2 decimals, 3 significant digits). */
function literalOf(n: Node): Literal | undefined {
  if (n.k === "neg") return literalOf(n.a);
  if (n.k !== "num" || n.decimals === undefined) return undefined;
  const e = n.text.search(/[eE]/);
  const mantissa = (e < 0 ? n.text : n.text.slice(0, e)).replace(".", "").replace(/^0+/, "");
  return { decimals: n.decimals, sig: mantissa.length };
}

function scalarCore(g: Node, a: Node, ctx: CompareContext): boolean {
  if (nodeKey(g) === nodeKey(a)) return true;
  if (hasOpaque(g) || hasOpaque(a)) return false;
  const vars = [...new Set([...freeSymbols(g), ...freeSymbols(a)])];
  if (vars.length === 0) return constantEq(g, a, ctx);
  return functionEq(g, a, vars, ctx);
}

function constantEq(g: Node, a: Node, ctx: CompareContext): boolean {
  const gl = literalOf(g);
  const al = literalOf(a);
  const none = new Map<string, Rational>();
  const ge = evalExact(g, none, ctx.budget);
  const ae = evalExact(a, none, ctx.budget);
  if (ge && ae) {
    if (Q.eq(ge, ae)) return true;
    const tol = precisionTol(gl, al, terminates(ge), ctx);
    if (!tol) return false;
    // |g - a| < half a unit in the last place, exactly. Strictly inside: a value exactly halfway
    // could round either way, so it proves nothing.
    const diff = Q.sub(ge, ae);
    return Q.cmp(diff.n < 0n ? Q.neg(diff) : diff, Q.mul(Q.rat(1n, 2n), tol.exact)) < 0;
  }
  let gv: Complex;
  let av: Complex;
  try {
    gv = evalComplex(g, new Map(), ctx.budget);
    av = evalComplex(a, new Map(), ctx.budget);
  } catch (e) {
    if (e instanceof EvaluationError) return false;
    throw e;
  }
  if (!isFiniteC(gv) || !isFiniteC(av)) return false;
  if (Math.max(gv.abs(), av.abs()) > FLOAT_TRUST_LIMIT) return false;
  // Not both rational: an exact gold here is irrational (pi, sqrt 2), so no decimal writes it in full.
  const tol = precisionTol(gl, al, ge !== undefined && terminates(ge), ctx);
  if (tol === undefined) return false;
  if (tol === 0) return close(gv, av, ctx.relTol) && precisely(g, a, new Map(), ctx) !== "differ";
  return gv.sub(av).abs() < 0.5 * tol.float * (1 - 1e-9);
}

/** Whether a rational has a finite decimal expansion (its denominator is 2^a 5^b). */
function terminates(q: Rational): boolean {
  let d = q.d < 0n ? -q.d : q.d;
  while (d % 2n === 0n) d /= 2n;
  while (d % 5n === 0n) d /= 5n;
  return d === 1n;
}

/**
 * How far apart two values may be, from how they were written: an inexact form
 * matches only to the precision the gold itself carries, and an inexact gold
 * never accepts a value that only rounds to it.
 * - both exact: 0 (equal or not);
 * - exact gold, decimal answer: a gold a decimal can write in full (1234567, 1/2) must be written in
 *   full (not 1.23e6, not 0.54); one it cannot (600/7, pi) may be rounded, to the answer's last place,
 *   with at least `minSigDigits` significant digits (85.71, 3.1416);
 * - decimal gold, exact answer: the gold is a rounded figure when it has `minSigDigits` significant
 *   digits (30.52 for 1587/52); one with fewer (0.5) is taken as exact;
 * - both decimals: an answer finer than the gold must be the gold itself (0.54 is not 0.5); a coarser
 *   one is the gold rounded, to its own last place, with enough significant digits (165.5 for 165.47).
 * 0: exact equality only; undefined: the answer is too coarse to say.
 */
function precisionTol(
  gl: Literal | undefined,
  al: Literal | undefined,
  goldTerminates: boolean,
  ctx: CompareContext,
): 0 | { exact: Rational; float: number } | undefined {
  if (!gl && !al) return 0;
  if (!gl) {
    const lit = al as Literal;
    if (goldTerminates) return 0;
    return lit.sig >= ctx.minSigDigits ? unit(lit.decimals) : undefined;
  }
  if (!al) return gl.sig >= ctx.minSigDigits ? unit(gl.decimals) : 0;
  if (al.decimals >= gl.decimals) return 0;
  return al.sig >= ctx.minSigDigits ? unit(al.decimals) : undefined;
}

function unit(decimals: number): { exact: Rational; float: number } {
  const exact = decimals >= 0 ? Q.rat(1n, 10n ** BigInt(decimals)) : Q.rat(10n ** BigInt(-decimals));
  return { exact, float: 10 ** -decimals };
}

/**
 * Doubles agreeing to 1e-9 do not make sqrt(2) + 1e-20 equal to sqrt(2): where both sides are real and
 * decimal.js can evaluate them, they must also agree to 30 or more digits (or to the caller's relTol).
 */
function precisely(
  g: Node,
  a: Node,
  env: ReadonlyMap<string, Rational>,
  ctx: CompareContext,
): "same" | "differ" | "unknown" {
  const digits = digitsFor([g, a]);
  // Integers too big to carry through: agreement in doubles cannot be confirmed, so it does not count.
  if (digits === undefined) return "differ";
  const gb = evalBig(g, env, digits, ctx.budget);
  const ab = gb && evalBig(a, env, digits, ctx.budget);
  if (!gb || !ab) return "unknown";
  return bigClose(gb, ab, ctx.preciseRelTol ?? 10 ** -(digits - 10), digits) ? "same" : "differ";
} /** Expression equivalence by evaluation at seeded random points, exactly where both sides are rational. */
function functionEq(g: Node, a: Node, vars: string[], ctx: CompareContext): boolean {
  let agree = 0;
  let confirmed = false;
  for (const pt of points(vars)) {
    ctx.budget.check();
    if (pt.exact) {
      const ge = evalExact(g, pt.exact, ctx.budget);
      const ae = ge && evalExact(a, pt.exact, ctx.budget);
      if (ge && ae) {
        if (!Q.eq(ge, ae)) return false;
        agree++;
        continue;
      }
    }
    let gv: Complex;
    let av: Complex;
    try {
      gv = evalComplex(g, pt.complex, ctx.budget);
      av = evalComplex(a, pt.complex, ctx.budget);
    } catch (e) {
      if (e instanceof EvaluationError) continue;
      throw e;
    }
    if (!isFiniteC(gv) || !isFiniteC(av)) continue;
    if (close(gv, av, Math.max(ctx.relTol, 1e-9))) {
      // One high-precision point is enough to expose a difference hidden below double precision.
      if (!confirmed && pt.exact && isReal(gv)) {
        const verdict = precisely(g, a, pt.exact, ctx);
        if (verdict === "differ") return false;
        confirmed = verdict === "same";
      }
      agree++;
    }
    // Disagreeing real values refute; disagreeing complex values may be branch choices, so they only abstain.
    else if (isReal(gv) && isReal(av)) return false;
  }
  if (agree >= MIN_AGREEING_POINTS) return true;
  // No point could decide (all overflowed or underflowed): try algebra instead.
  return simplifiesToSame(g, a, ctx.budget);
}
