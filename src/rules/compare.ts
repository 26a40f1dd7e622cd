/** Comparison of typed values: by type, exactly where the gold is exact, never by float equality alone. */
import type { Node } from "./ast.js";
import type { Budget } from "./budget.js";
import {
  Complex as C,
  type Complex,
  EvaluationError,
  evalBig,
  evalComplex,
  evalExact,
  freeSymbols,
  realConstant,
} from "./numeric.js";
import type { Rational } from "./rational.js";
import * as Q from "./rational.js";
import { asRealSet, type Interval, renameValue, type Value, valueSymbols } from "./values.js";

export interface CompareContext {
  budget: Budget;
  /** Relative tolerance for inexact closed-form values (sqrt 2, pi) and random-point evaluation. */
  relTol: number;
  /** Relative tolerance at 40 digits; tiny unless the caller asked for a looser relTol. */
  preciseRelTol: number;
  /** A decimal answer coarser than the gold must still carry this many significant digits. */
  minSigDigits: number;
}

/** Past this magnitude doubles cannot tell n from n + 1, so inexact agreement proves nothing. */
const FLOAT_TRUST_LIMIT = 1e15;
/** Random-point checks need this many points where both sides evaluate and agree. */
const MIN_AGREEING_POINTS = 3;

export function answersEqual(gold: Value, answer: Value, ctx: CompareContext): boolean {
  return valuesEqual(gold, renameFreeSymbol(gold, answer), ctx);
}

/**
 * The same answer in other letters: the only variable on each side (k*pi vs n*pi, t vs x), or one
 * symbol whose case differs (C vs c). Never a rename among several variables (a + b vs a + c).
 */
function renameFreeSymbol(gold: Value, answer: Value): Value {
  const gs = valueSymbols(gold);
  const as = valueSymbols(answer);
  const onlyG = [...gs].filter((s) => !as.has(s));
  const onlyA = [...as].filter((s) => !gs.has(s));
  if (onlyG.length !== 1 || onlyA.length !== 1) return answer;
  const [g, a] = [onlyG[0] as string, onlyA[0] as string];
  // A bare letter is the answer itself ("a" vs "b"), and x_1 vs x_2 name different things: no renaming.
  if (isBareSymbol(gold) || isBareSymbol(answer) || g.split("_")[0] === a.split("_")[0]) return answer;
  if ((gs.size === 1 && as.size === 1) || g.toLowerCase() === a.toLowerCase())
    return renameValue(answer, new Map([[a, g]]));
  return answer;
}

function isBareSymbol(v: Value): boolean {
  const u = unlabel(unwrap(v));
  if (u.t === "scalar") return u.node.k === "sym";
  return (u.t === "list" || u.t === "tuple" || u.t === "set") && u.items.some(isBareSymbol);
}

function unwrap(v: Value): Value {
  return v.t === "list" && v.items.length === 1 ? (v.items[0] as Value) : v;
}

/** The value with its label dropped: `x = 2` -> 2, `f(x) = 2x` -> 2x. */
function unlabel(v: Value): Value {
  if (v.t === "eq") return unlabel(v.value);
  if (v.t === "fdef") return { t: "scalar", node: v.body };
  return v;
}

export function valuesEqual(gold: Value, answer: Value, ctx: CompareContext): boolean {
  ctx.budget.check();
  const g = unwrap(gold);
  const a = unwrap(answer);
  if (g.t === "fdef" && a.t === "fdef") {
    if (g.params.length !== a.params.length) return false;
    const map = new Map(a.params.map((p, i) => [p, g.params[i] as string]));
    const renamed = renameValue(a, map) as typeof a;
    return scalarEq(g.body, renamed.body, ctx);
  }
  if (g.t === "eq" || g.t === "fdef" || a.t === "eq" || a.t === "fdef")
    return valuesEqual(unlabel(g), unlabel(a), ctx);
  switch (g.t) {
    case "scalar":
      return a.t === "scalar" && scalarEq(g.node, a.node, ctx);
    case "text":
      return a.t === "text" && textKey(g.s) === textKey(a.s);
    case "list":
      return (a.t === "list" || a.t === "set" || a.t === "tuple") && unorderedEq(g.items, a.items, ctx);
    case "set":
      if (a.t === "list" || a.t === "set") return unorderedEq(g.items, a.items, ctx);
      return a.t === "realset" && realSetsEqual(g, a, ctx);
    case "tuple":
      if (a.t === "tuple" || a.t === "list") return orderedEq(g.items, a.items, ctx);
      if (a.t === "matrix") return vectorEq(a, g.items, ctx);
      return a.t === "realset" && realSetsEqual(g, a, ctx);
    case "realset":
      return realSetsEqual(g, a, ctx);
    case "matrix":
      if (a.t === "matrix") return matrixEq(g, a, ctx);
      return a.t === "tuple" && vectorEq(g, a.items, ctx);
    case "rel":
      if (a.t === "rel") return relEq(g, a, ctx);
      return (
        a.t === "scalar" &&
        g.ops.length === 1 &&
        g.ops[0] === "=" &&
        equationGives(g.items as [Node, Node], a.node, ctx)
      );
  }
  return false;
}

function textKey(s: string): string {
  return s.toLowerCase().replace(/[^a-z0-9]+/g, "");
}

function orderedEq(g: Value[], a: Value[], ctx: CompareContext): boolean {
  return g.length === a.length && g.every((x, i) => valuesEqual(x, a[i] as Value, ctx));
}

function labelOf(v: Value): string | undefined {
  return v.t === "eq" || v.t === "fdef" ? v.name : undefined;
}

/** Multiset equality: a perfect matching between gold items and answer items. */
function unorderedEq(g: Value[], a: Value[], ctx: CompareContext): boolean {
  if (g.length !== a.length) return false;
  // Labelled on both sides with the same labels: pair by label.
  const gl = g.map(labelOf);
  const al = a.map(labelOf);
  if (
    gl.every((l) => l) &&
    al.every((l) => l) &&
    new Set(gl).size === g.length &&
    gl.every((l) => al.includes(l))
  ) {
    return g.every((x, i) => valuesEqual(x, a[al.indexOf(gl[i])] as Value, ctx));
  }
  if (orderedEq(g, a, ctx)) return true;
  // Gold "x = 2, y = 3" against bare "3, 2": the order is the only link to the names.
  if (gl.every((l) => l) && new Set(gl).size === g.length && al.every((l) => !l)) return false;
  const memo = new Map<number, boolean>();
  const eq = (i: number, j: number) => {
    const key = i * a.length + j;
    let r = memo.get(key);
    if (r === undefined) {
      r = valuesEqual(g[i] as Value, a[j] as Value, ctx);
      memo.set(key, r);
    }
    return r;
  };
  const owner: number[] = new Array(a.length).fill(-1);
  const tryAssign = (i: number, seen: boolean[]): boolean => {
    for (let j = 0; j < a.length; j++) {
      if (seen[j] || !eq(i, j)) continue;
      seen[j] = true;
      if (owner[j] === -1 || tryAssign(owner[j] as number, seen)) {
        owner[j] = i;
        return true;
      }
    }
    return false;
  };
  for (let i = 0; i < g.length; i++) if (!tryAssign(i, new Array(a.length).fill(false))) return false;
  return true;
}

function matrixEq(
  g: Extract<Value, { t: "matrix" }>,
  a: Extract<Value, { t: "matrix" }>,
  ctx: CompareContext,
) {
  return (
    g.rows.length === a.rows.length &&
    g.rows.every(
      (row, i) =>
        row.length === (a.rows[i] as Node[]).length &&
        row.every((x, j) => scalarEq(x, (a.rows[i] as Node[])[j] as Node, ctx)),
    )
  );
}

/** A one-row or one-column matrix against a tuple. */
function vectorEq(m: Extract<Value, { t: "matrix" }>, items: Value[], ctx: CompareContext): boolean {
  const flat =
    m.rows.length === 1
      ? m.rows[0]
      : m.rows.every((r) => r.length === 1)
        ? m.rows.map((r) => r[0] as Node)
        : undefined;
  if (!flat || flat.length !== items.length) return false;
  return flat.every((x, i) => {
    const it = items[i] as Value;
    return it.t === "scalar" && scalarEq(x, it.node, ctx);
  });
}

const FLIP: Record<string, string> = { "<": ">", ">": "<", "<=": ">=", ">=": "<=", "=": "=", "!=": "!=" };

function relEq(
  g: Extract<Value, { t: "rel" }>,
  a: Extract<Value, { t: "rel" }>,
  ctx: CompareContext,
): boolean {
  if (g.ops.length !== a.ops.length) return false;
  const same =
    g.ops.every((o, i) => o === a.ops[i]) && g.items.every((x, i) => scalarEq(x, a.items[i] as Node, ctx));
  if (same) return true;
  const n = a.items.length;
  return (
    g.ops.every((o, i) => o === FLIP[a.ops[n - 2 - i] as string]) &&
    g.items.every((x, i) => scalarEq(x, a.items[n - 1 - i] as Node, ctx))
  );
}

/**
 * Gold `L = R` against a bare expression: either the gold is an identity whose result R the answer
 * equals, or the gold is affine in one variable the answer lacks (y + 1 = ...) and the answer is its
 * unique solution.
 */
function equationGives([lhs, rhs]: [Node, Node], answer: Node, ctx: CompareContext): boolean {
  const gs = new Set([...freeSymbols(lhs), ...freeSymbols(rhs)]);
  const as = freeSymbols(answer);
  if (![...as].every((s) => gs.has(s))) return false;
  const missing = [...gs].filter((s) => !as.has(s));
  if (missing.length === 0) return scalarEq(lhs, rhs, ctx) && scalarEq(rhs, answer, ctx);
  if (missing.length !== 1) return false;
  const v = missing[0] as string;
  const others = [...as];
  const diff: Node = { k: "bin", op: "-", a: lhs, b: rhs };
  let agree = 0;
  for (const pt of points(others)) {
    try {
      const at = (x: Complex) => evalComplex(diff, new Map([...pt.complex, [v, x]]), ctx.budget);
      const e0 = at(new C(0, 0));
      const e1 = at(new C(1, 0));
      const e2 = at(new C(2, 0));
      const slope = e1.sub(e0);
      if (!close(e2.sub(e1), slope, 1e-9) || slope.abs() < 1e-12) return false;
      const sol = evalComplex(answer, pt.complex, ctx.budget);
      const res = at(sol);
      if (!isFiniteC(res)) continue;
      if (res.abs() > 1e-8 * Math.max(1, slope.abs(), sol.abs())) return false;
      agree++;
    } catch (e) {
      if (!(e instanceof EvaluationError)) throw e;
    }
  }
  return agree >= MIN_AGREEING_POINTS;
}

// ---------- scalars ----------

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
  const mantissa = n.text
    .replace(/[eE].*$/, "")
    .replace(".", "")
    .replace(/^0+/, "");
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
    const tol = precisionTol(gl, al, ctx);
    if (tol === undefined) return false;
    if (tol === 0) return Q.eq(ge, ae);
    // |g - a| <= half a unit in the last place, exactly.
    const diff = Q.sub(ge, ae);
    // Strictly inside: a value exactly halfway could round either way, so it proves nothing.
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
  const tol = precisionTol(gl, al, ctx);
  if (tol === undefined) return false;
  if (tol === 0) return close(gv, av, ctx.relTol) && !refutedPrecisely(g, a, new Map(), ctx);
  return gv.sub(av).abs() < 0.5 * tol.float * (1 - 1e-9);
}

/**
 * Tolerance implied by how the numbers were written: 0 when both are exact; half a unit in the
 * gold's last decimal when the gold is a decimal at least as coarse as the answer; half a unit in
 * the answer's last decimal when the answer is the coarser one and still has enough significant
 * digits. undefined: the answer is too coarse to judge.
 */
function precisionTol(
  gl: Literal | undefined,
  al: Literal | undefined,
  ctx: CompareContext,
): 0 | { exact: Rational; float: number } | undefined {
  let decimals: number;
  if (!gl && !al) return 0;
  if (gl && (!al || al.decimals >= gl.decimals)) decimals = gl.decimals;
  else {
    const lit = al as Literal;
    if (lit.sig < ctx.minSigDigits) return undefined;
    decimals = lit.decimals;
  }
  const exact = decimals >= 0 ? Q.rat(1n, 10n ** BigInt(decimals)) : Q.rat(10n ** BigInt(-decimals));
  return { exact, float: 10 ** -decimals };
}

function isFiniteC(z: Complex): boolean {
  return Number.isFinite(z.re) && Number.isFinite(z.im);
}

function close(x: Complex, y: Complex, tol: number): boolean {
  return x.sub(y).abs() <= tol * Math.max(1, x.abs(), y.abs());
}

function isReal(z: Complex): boolean {
  return Math.abs(z.im) <= 1e-9 * Math.max(1, Math.abs(z.re));
}

interface Point {
  exact?: Map<string, Rational>;
  complex: Map<string, Complex>;
}

/**
 * Doubles agreeing to 1e-9 do not make sqrt(2) + 1e-20 equal to sqrt(2): where both sides are real and
 * decimal.js can evaluate them, they must also agree to 30 digits (or to the caller's relTol).
 */
function refutedPrecisely(
  g: Node,
  a: Node,
  env: ReadonlyMap<string, Rational>,
  ctx: CompareContext,
): boolean {
  const gb = evalBig(g, env, ctx.budget);
  const ab = gb && evalBig(a, env, ctx.budget);
  if (!gb || !ab) return false;
  const scale = gb.abs().toNumber();
  return !gb
    .minus(ab)
    .abs()
    .lte(ctx.preciseRelTol * Math.max(1, scale));
}

/** Seeded points: six rational real points of both signs, then two complex ones. */
function points(vars: string[]): Point[] {
  let seed = 0x9e3779b9;
  const rand = () => {
    seed = (seed + 0x6d2b79f5) | 0;
    let t = seed;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
  const out: Point[] = [];
  const dens = [7n, 11n, 13n];
  for (let p = 0; p < 8; p++) {
    const exact = new Map<string, Rational>();
    const complex = new Map<string, Complex>();
    vars.forEach((v, j) => {
      const den = dens[(p + j) % 3] as bigint;
      const sign = p % 3 === 1 ? -1n : 1n;
      const num = BigInt(2 + Math.floor(rand() * 30));
      const q = Q.rat(sign * num, den);
      exact.set(v, q);
      complex.set(v, new C(Q.toNumber(q), p >= 6 ? 0.3 + rand() : 0));
    });
    out.push(p >= 6 ? { complex } : { exact, complex });
  }
  return out;
}

/** Expression equivalence by evaluation at seeded random points, exactly where both sides are rational. */
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
        if (refutedPrecisely(g, a, pt.exact, ctx)) return false;
        confirmed = true;
      }
      agree++;
    }
    // Disagreeing real values refute; disagreeing complex values may be branch choices, so they only abstain.
    else if (isReal(gv) && isReal(av)) return false;
  }
  return agree >= MIN_AGREEING_POINTS;
}

// ---------- sets of reals ----------

interface NumInterval {
  lo: number;
  hi: number;
  loClosed: boolean;
  hiClosed: boolean;
  loNode?: Node;
  hiNode?: Node;
}

const sameNum = (x: number, y: number) =>
  x === y ||
  (Number.isFinite(x) &&
    Number.isFinite(y) &&
    Math.abs(x - y) <= 1e-12 * Math.max(1, Math.abs(x), Math.abs(y)));

/** Endpoints as numbers, holes cut out, sorted and merged; undefined when an endpoint is not a constant. */
function canonical(parts: Interval[], ctx: CompareContext): NumInterval[] | undefined {
  let ivs: NumInterval[] = [];
  for (const p of parts) {
    const lo = p.lo ? realConstant(p.lo, ctx.budget) : Number.NEGATIVE_INFINITY;
    const hi = p.hi ? realConstant(p.hi, ctx.budget) : Number.POSITIVE_INFINITY;
    if (lo === undefined || hi === undefined || lo > hi) return undefined;
    let pieces: NumInterval[] = [
      { lo, hi, loClosed: p.loClosed, hiClosed: p.hiClosed, loNode: p.lo, hiNode: p.hi },
    ];
    for (const h of p.holes ?? []) {
      const hv = realConstant(h, ctx.budget);
      if (hv === undefined) return undefined;
      pieces = pieces.flatMap((iv) => {
        if (hv < iv.lo || hv > iv.hi) return [iv];
        if (sameNum(hv, iv.lo) && sameNum(hv, iv.hi)) return [];
        if (sameNum(hv, iv.lo)) return [{ ...iv, loClosed: false }];
        if (sameNum(hv, iv.hi)) return [{ ...iv, hiClosed: false }];
        return [
          { ...iv, hi: hv, hiClosed: false, hiNode: h },
          { ...iv, lo: hv, loClosed: false, loNode: h },
        ];
      });
    }
    ivs.push(...pieces);
  }
  ivs = ivs.filter((iv) => iv.lo < iv.hi || (iv.loClosed && iv.hiClosed));
  ivs.sort((x, y) => x.lo - y.lo || Number(y.loClosed) - Number(x.loClosed));
  const merged: NumInterval[] = [];
  for (const iv of ivs) {
    const last = merged[merged.length - 1];
    const touches = last && (iv.lo < last.hi || (sameNum(iv.lo, last.hi) && (last.hiClosed || iv.loClosed)));
    if (!last || !touches) {
      merged.push({ ...iv });
      continue;
    }
    if (sameNum(iv.lo, last.lo)) last.loClosed ||= iv.loClosed;
    if (iv.hi > last.hi && !sameNum(iv.hi, last.hi)) {
      last.hi = iv.hi;
      last.hiClosed = iv.hiClosed;
      last.hiNode = iv.hiNode;
    } else if (sameNum(iv.hi, last.hi)) last.hiClosed ||= iv.hiClosed;
  }
  return merged;
}

function endpointEq(
  g: Node | undefined,
  a: Node | undefined,
  gv: number,
  av: number,
  ctx: CompareContext,
): boolean {
  if (!Number.isFinite(gv) || !Number.isFinite(av)) return gv === av;
  return g !== undefined && a !== undefined && scalarEq(g, a, ctx);
}

function realSetsEqual(gold: Value, answer: Value, ctx: CompareContext): boolean {
  const gp = asRealSet(gold);
  const ap = asRealSet(answer);
  if (!gp || !ap) return false;
  const gn = canonical(gp, ctx);
  const an = canonical(ap, ctx);
  if (gn && an) {
    return (
      gn.length === an.length &&
      gn.every((g, i) => {
        const a = an[i] as NumInterval;
        return (
          g.loClosed === a.loClosed &&
          g.hiClosed === a.hiClosed &&
          endpointEq(g.loNode, a.loNode, g.lo, a.lo, ctx) &&
          endpointEq(g.hiNode, a.hiNode, g.hi, a.hi, ctx)
        );
      })
    );
  }
  // Symbolic endpoints (k*pi - ...): compare as written, in order.
  if (gp.length !== ap.length || [...gp, ...ap].some((p) => p.holes?.length)) return false;
  const sameEnd = (x?: Node, y?: Node) =>
    x === undefined ? y === undefined : y !== undefined && scalarEq(x, y, ctx);
  return gp.every((g, i) => {
    const a = ap[i] as Interval;
    return (
      g.loClosed === a.loClosed && g.hiClosed === a.hiClosed && sameEnd(g.lo, a.lo) && sameEnd(g.hi, a.hi)
    );
  });
}

// ---------- structure ----------

function hasOpaque(n: Node): boolean {
  return nodeKey(n).includes("opaque");
}

/** Canonical text of a tree, for structural equality. */
export function nodeKey(n: Node): string {
  switch (n.k) {
    case "num":
      return Q.format(n.v) + (n.decimals === undefined ? "" : `~${n.decimals}`);
    case "sym":
      return `$${n.name}`;
    case "const":
      return `#${n.name}`;
    case "bin":
      return `(${nodeKey(n.a)}${n.op}${nodeKey(n.b)})`;
    case "neg":
      return `-(${nodeKey(n.a)})`;
    case "unit":
      return `${n.unit}(${nodeKey(n.a)})`;
    case "pm":
      return `pm(${n.a ? nodeKey(n.a) : ""},${nodeKey(n.b)})`;
    case "call":
      return `${n.fn}(${n.args.map(nodeKey).join(",")})`;
    case "opaque":
      return `opaque:${n.s}`;
    default:
      return `${n.k}:${JSON.stringify(n, (_k, v) => (typeof v === "bigint" ? v.toString() : v))}`;
  }
}
